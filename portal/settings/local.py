"""Settings for a developer machine: `make run` and manage.py default to these."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Local development only; production refuses to start without a real key.
SECRET_KEY = env("SECRET_KEY", default="local-development-key-not-for-production-use-0123456789")
