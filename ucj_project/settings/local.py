"""Local development: debug on, a fixed insecure key so `make run` works with no set-up."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-only-ucj-desa")

# A receiver on this machine over plain http (docs/examples/webhook_receiver.py).
UCJ_WEBHOOK_ALLOW_HTTP = env.bool("UCJ_WEBHOOK_ALLOW_HTTP", default=True)
UCJ_WEBHOOK_ALLOW_PRIVATE = env.bool("UCJ_WEBHOOK_ALLOW_PRIVATE", default=True)
