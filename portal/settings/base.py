"""Settings shared by every environment; whatever differs per machine comes from the environment."""

from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from portal.db import check_pooled_connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer may keep overrides in .env; the file is git-ignored and optional.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local services started by `make run` / `make test` listen on these loopback ports.
LOCAL_DATABASE_URL = "postgres://portal@127.0.0.1:54329/portal"
LOCAL_REDIS_URL = "redis://127.0.0.1:63799/0"

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "portal",
    "companies",
    "projects",
    "policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.security.SecurityEventMiddleware",
    # Last, so it is the first to see a view's exception: a lost database becomes a clean 503.
    "portal.middleware.DatabaseUnavailableMiddleware",
]

AUTHENTICATION_BACKENDS = ["portal.security.ThrottledModelBackend"]
# Failed logins per username or client address before further attempts are refused.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
# One address may try several usernames (shared office NAT), so its limit is higher.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=25)

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=LOCAL_DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# Django's native psycopg 3 pool; a persistent connection age must stay 0 with it.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": env.int("DATABASE_POOL_MIN", default=1),
    "max_size": env.int("DATABASE_POOL_MAX", default=8),
    "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
}
# With the pool this makes Django check each connection as it is handed out, so after a
# PostgreSQL restart the pool does not give its idle, dead connections to requests first. The
# check (portal/db.py) does an empty round trip only when something arrived on the idle
# socket (the server's goodbye), not on every request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"]["pool"]["check"] = check_pooled_connection
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 3)
# No JIT: the portal's queries are short, and JIT compiling a plan the planner guesses to be
# costly (facet counts over every company) took longer than running it (~0.4 s per query).
_pg_options = DATABASES["default"]["OPTIONS"].get("options", "")
DATABASES["default"]["OPTIONS"]["options"] = f"{_pg_options} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default=LOCAL_REDIS_URL)

CACHES = {
    "default": {
        # Django's Redis backend, keeping one client object per pool (portal/cache.py).
        "BACKEND": "portal.cache.PortalRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
        # A request must never hang on a dead Redis: fail fast and let callers degrade.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    # Rendered page fragments (`{% cache %}`): same Redis, but an outage is a cache miss.
    "template_fragments": {
        "BACKEND": "portal.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Project-wide assets; a checkout with none yet must not trip staticfiles.W004 in check --deploy.
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# Map tiles for the facility maps (Leaflet URL template). Empty turns tiles off: markers and
# popups still render over a plain background, e.g. where the tile host is unreachable.
MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Scripts and styles are served from our own origin (vendored); inline scripts need the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiTokenAuthentication",
        "portal.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["portal.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": None,
    "EXCEPTION_HANDLER": "portal.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per token (per staff user for sessions); counters live in this cache alias.
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="600/min")
API_THROTTLE_CACHE = "default"

SPECTACULAR_SETTINGS = {
    "TITLE": "CGT Policy & Investment Portal API",
    "DESCRIPTION": "Companies, facilities, investment projects, products, policies and subsidy "
    "rules "
    "for the cell and gene therapy industry in China, every fact with its citations. "
    "Authenticate with `Authorization: Bearer <token>` (`manage.py issue_token`). Lists use "
    "cursor pagination (`next`), `?format=csv` exports, ETag/If-None-Match; writes need "
    'If-Match. Errors: `{"error": {status, code, message, fields}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind`/`status`; name each enum after its choices class.
    "ENUM_NAME_OVERRIDES": {
        "CompanyKindEnum": "companies.choices.CompanyKind",
        "FacilityKindEnum": "companies.choices.FacilityKind",
        "FacilityStatusEnum": "companies.choices.FacilityStatus",
        "ModalityEnum": "companies.choices.Modality",
        "OwnershipTypeEnum": "companies.choices.OwnershipType",
        "ProjectKindEnum": "projects.choices.ProjectKind",
        "ProjectStatusEnum": "projects.choices.ProjectStatus",
        "AmountKindEnum": "projects.choices.AmountKind",
        "MilestoneKindEnum": "projects.choices.MilestoneKind",
        "PolicyKindEnum": "policies.choices.PolicyKind",
        "ProvisionKindEnum": "policies.choices.ProvisionKind",
        "ValidityStatusEnum": "policies.choices.ValidityStatus",
        "TargetMetricEnum": "policies.choices.TargetMetric",
        "RegionKindEnum": "portal.choices.RegionKind",
        "NameProvenanceEnum": "portal.choices.NameProvenance",
        "DatePrecisionEnum": "portal.choices.DatePrecision",
        "VerificationStateEnum": "portal.choices.VerificationState",
        "ComparatorEnum": "portal.choices.Comparator",
        "ChangeActionEnum": "portal.choices.ChangeAction",
        "MetricSubjectTypeEnum": "portal.models.MetricSubjectType",
    },
}

# Admin bulk import: one transaction per file, so one bad row writes nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Celery: everything under the CELERY_ namespace (see portal/celery.py).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_RESULT_EXPIRES = 3600
# Redelivery after a lost worker waits this long; it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE: dict = {
    # Derived metrics: catch up on anything a lost after-write task missed, and a nightly full
    # recompute (date-dependent figures such as "ownership in force today" change overnight).
    "metrics-reconcile": {"task": "portal.metrics.reconcile", "schedule": 300.0},
    "metrics-full-recompute": {"task": "portal.metrics.recompute_all", "schedule": 86400.0},
}

# Memory a metric recompute may use per sort/hash (a transaction-local setting): the family
# aggregates group millions of rows and must not spill to disk in batches.
METRICS_WORK_MEM = env("METRICS_WORK_MEM", default="256MB")
# How many metric families one recompute runs at once (threads, each with its own database
# connection from the pool): the families are independent statements, and PostgreSQL runs
# each on its own core. 1 runs them one after another.
METRICS_PARALLEL_FAMILIES = env.int("METRICS_PARALLEL_FAMILIES", default=2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "portal.security": {"level": "INFO"},
    },
}
