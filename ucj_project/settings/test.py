"""Test settings: fast password hashing; the database still comes from DATABASE_URL."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Jobs run at once, inside the request or test that enqueues them, unless a test is about the
# runner itself (it then sets the database backend and starts `run_worker`); no heartbeat thread
# unless a worker started by a test asks for one (UCJ_JOB_HEARTBEAT).
TASKS = {
    "default": {"BACKEND": env.str("UCJ_TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend")}
}  # noqa: F405
UCJ_JOB_HEARTBEAT = env.float("UCJ_JOB_HEARTBEAT", default=0.0)  # noqa: F405

if "replica" in DATABASES:  # noqa: F405
    # The replica receives the test database by streaming replication: nothing is created or
    # flushed on it. A mirror is what Django skips; the tests' conftest then points the
    # connection back at the replica server, at the test database's name (a mirror alone
    # would read the primary).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405

# Webhook receivers of the tests listen on loopback over plain http, unless a test says otherwise.
UCJ_WEBHOOK_ALLOW_HTTP = env.bool("UCJ_WEBHOOK_ALLOW_HTTP", default=True)  # noqa: F405
UCJ_WEBHOOK_ALLOW_PRIVATE = env.bool("UCJ_WEBHOOK_ALLOW_PRIVATE", default=True)  # noqa: F405
