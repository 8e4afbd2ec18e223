"""Local development: debug on, a fixed insecure key so `make run` works with no set-up."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-only-ucj-desa")
