"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.production")

application = get_wsgi_application()

# After the application, so that Django's settings and apps are loaded (core.heap).
from core.heap import heap_settle  # noqa: E402

heap_settle()
