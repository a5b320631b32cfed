"""Settings for the retreat booking system.

Everything comes from the environment. With nothing set, the product runs on the
embedded default: SQLite next to manage.py and Celery in eager mode. With
``DJANGO_ENV=production`` the settings refuse to start without a secret key,
allowed hosts and an ID encryption key.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENT = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"


def env(name: str, default: str | None = None, *, required_in_production: bool = False) -> str | None:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION and required_in_production:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return default


SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me", required_in_production=True)
DEBUG = env("DJANGO_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver", required_in_production=True).split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]

# Resident ID numbers are encrypted with this key (Fernet, base64 32 bytes) and
# looked up by an HMAC keyed with ID_HASH_KEY; both live outside the database.
# To replace the key, list "new,old": the first encrypts, each decrypts; then run
# `manage.py reencrypt_ids` and drop the old one.
ID_ENCRYPTION_KEY = env("ID_ENCRYPTION_KEY", "ZGV2LW9ubHktaWQta2V5LTMyLWJ5dGVzLWxvbmchIQ==", required_in_production=True)
ID_HASH_KEY = env("ID_HASH_KEY", "dev-only-id-hash-key", required_in_production=True)
# Arrival codes (QR) are signed with this Ed25519 private key (hex); the scanning
# device only needs the public key.
CODE_SIGNING_KEY = env("CODE_SIGNING_KEY", "1f" * 32, required_in_production=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "ninja",
    "groups",
    "bases",
    "itineraries",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "retreat.middleware.ApiErrorShapeMiddleware",
    "retreat.middleware.PageNulMiddleware",
]

ROOT_URLCONF = "retreat.urls"
WSGI_APPLICATION = "retreat.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "groups.context_processors.acting_membership",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and eager tasks share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")} if env("TEST_DATABASE_NAME") else {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Row locks on inventory and fund balances wait at most this long; a timeout
# becomes a 409 "busy, retry" that changed nothing.
LOCK_TIMEOUT_MS = int(env("LOCK_TIMEOUT_MS", "3000"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the product still runs whole: tasks run in-process.
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "expire-certifications": {"task": "bases.tasks.expire_certifications", "schedule": 3600.0},
    "release-lapsed-holds": {"task": "groups.tasks.release_lapsed_holds", "schedule": 60.0},
    "reap-stale-solves": {"task": "itineraries.tasks.reap_stale_solves", "schedule": 30.0},
    "purge-idempotency-records": {"task": "groups.tasks.purge_idempotency_records", "schedule": 86400.0},
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@retreat.example.cn")

# Absolute address printed in QR codes on documents (settlement verification).
PUBLIC_SITE_URL = env("PUBLIC_SITE_URL", "http://127.0.0.1:8000", required_in_production=True)

# Nights can be opened, held and planned this many days ahead.
INVENTORY_HORIZON_DAYS = int(env("INVENTORY_HORIZON_DAYS", "730"))
PDF_RENDER_PROCESSES = int(env("PDF_RENDER_PROCESSES", "0")) or None  # a month batch of PDFs; None: the cores, at most 4
API_PAGE_MAX = 200

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
STATICFILES_DIRS = [BASE_DIR / "static"]

# Resident ID numbers never reach a log line: every handler masks 18-character
# ID-like strings (groups/identity.py), Django's own loggers included.
LOGGING["filters"] = {"redact_resident_ids": {"()": "groups.identity.ResidentIdRedactingFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["redact_resident_ids"]
LOGGING["loggers"] = {
    "django": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING"), "propagate": False},
    "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
}

if PRODUCTION:
    # Present is not enough: a value that would only fail on first use (or silently weaken
    # the site) stops the start here, naming every problem at once.
    _problems = []
    if SECRET_KEY.startswith("dev-only") or len(SECRET_KEY) < 32:
        _problems.append("SECRET_KEY must be a random value of at least 32 characters")
    if not all(host.strip() for host in ALLOWED_HOSTS) or "*" in ALLOWED_HOSTS:
        _problems.append("ALLOWED_HOSTS must list the site's host names, comma-separated (no empty entries, no *)")
    try:
        _seed_ok = len(bytes.fromhex(CODE_SIGNING_KEY)) == 32
    except ValueError:
        _seed_ok = False
    if not _seed_ok:
        _problems.append("CODE_SIGNING_KEY must be 64 hex digits (an Ed25519 seed)")
    if DEBUG:
        _problems.append("DJANGO_DEBUG=1 is not allowed when DJANGO_ENV=production")
    if _problems:
        raise ImproperlyConfigured("; ".join(_problems))
