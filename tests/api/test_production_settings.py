"""The production settings module as a deployment runs it (a child process with only the
environment the README names): HTTPS redirect, the proxy header, the health probe, check --deploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "ucj.example.org"
SECRET = "prod-test-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"

# Plain-HTTP requests through the production middleware; prints {name: [status, Location]}.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST=%(host)r)
answers = {
    "healthz": client.get("/healthz"),
    "api": client.get("/api/v1/nowhere/?page=2"),
    "api_forwarded_https": client.get("/nothing-here/", HTTP_X_FORWARDED_PROTO="https"),
}
print(json.dumps({name: [r.status_code, r.get("Location")] for name, r in answers.items()}))
"""


def production(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "UCJ_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ucj_project.settings.production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **variables,
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def probe(tmp_path: Path, **variables: str) -> dict[str, list]:
    result = production(tmp_path, "-c", PROBE % {"host": HOST}, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_readme_variables_alone_redirect_plain_http_but_not_the_health_probe(tmp_path):
    answers = probe(tmp_path)

    assert answers["healthz"] == [200, None]
    assert answers["api"] == [301, f"https://{HOST}/api/v1/nowhere/?page=2"]
    # No proxy configured: a client's X-Forwarded-Proto is not trusted.
    assert answers["api_forwarded_https"] == [301, f"https://{HOST}/nothing-here/"]


def test_proxy_header_is_trusted_only_when_configured(tmp_path):
    answers = probe(tmp_path, UCJ_PROXY_SSL_HEADER="X-Forwarded-Proto")

    assert answers["api_forwarded_https"][0] == 404
    assert answers["api"] == [301, f"https://{HOST}/api/v1/nowhere/?page=2"]
    assert answers["healthz"] == [200, None]


def test_ssl_redirect_can_be_turned_off(tmp_path):
    answers = probe(tmp_path, SECURE_SSL_REDIRECT="0")

    assert answers["healthz"] == [200, None]
    assert answers["api"] == [404, None]
    assert answers["api_forwarded_https"][0] == 404


@pytest.mark.parametrize("variables", [{}, {"UCJ_PROXY_SSL_HEADER": "X-Forwarded-Proto"}], ids=["direct", "proxy"])
def test_check_deploy_is_clean_with_the_documented_variables(tmp_path, variables):
    result = production(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **variables)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# The WSGI module as gunicorn imports it, then one request through its application.
WSGI_PROBE = """
import gc, io, json, sys
import ucj_project.wsgi as wsgi
answered = []
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "SERVER_NAME": %(host)r, "SERVER_PORT": "443",
           "HTTP_HOST": %(host)r, "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
b"".join(wsgi.application(environ, lambda status, headers: answered.append(status)))
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(),
                  "views_loaded": "coverage.api.views" in sys.modules, "status": answered[0]}))
"""


def test_the_wsgi_module_settles_the_heap_before_serving(tmp_path):
    """core.heap: the views are loaded, what is alive is frozen (no full collection walks it again)
    and the young generation's threshold is raised; the application still answers."""
    from core.heap import YOUNG_THRESHOLD

    result = production(tmp_path, "-c", WSGI_PROBE % {"host": HOST})
    assert result.returncode == 0, result.stderr
    settled = json.loads(result.stdout.strip().splitlines()[-1])

    assert settled["status"] == "200 OK"
    assert settled["views_loaded"] is True
    assert settled["frozen"] > 50_000  # Django, the apps and their views: well over 100,000 here
    assert settled["threshold"][0] == YOUNG_THRESHOLD
