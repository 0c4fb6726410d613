"""The one settings module of ebhxh, driven by environment variables.

Embedded default (no variables set): SQLite in WAL mode under DATA_DIR, local
file storage, Celery tasks run in-process, e-mails written to DATA_DIR/outbox.
Production: DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis/RabbitMQ),
S3 storage (S3_BUCKET) and SMTP (EMAIL_HOST). Every variable is documented in
docs/configuration.md (a test fails when one is not).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ebhxh.lib.envconf import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    # Embedded mode: generate once and keep it, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
# Where portal pages look for the local signing agent (`ebhxh signer`) on the user's PC.
SIGNING_AGENT_URL = env_str("SIGNING_AGENT_URL", "http://127.0.0.1:8765").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ebhxh.audit",
    "ebhxh.catalog",
    "ebhxh.accounts",
    "ebhxh.units",
    "ebhxh.signatures",
    "ebhxh.declarations",
    "ebhxh.notices",
    "ebhxh.web",
    "ebhxh.notify",
    "ebhxh.legacy",
    "ebhxh.registrations",
    "ebhxh.dossiers",
    "ebhxh.processing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ebhxh.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ebhxh.audit.middleware.RequestContextMiddleware",
    "ebhxh.accounts.middleware.OfficerSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ebhxh.urls"
WSGI_APPLICATION = "ebhxh.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ebhxh" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
_default_sqlite = DATA_DIR / "ebhxh.sqlite3"
DATABASE_URL = env_secret("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_default_sqlite),
            "OPTIONS": {
                # WAL lets readers run beside the writer; IMMEDIATE takes the write lock
                # at BEGIN, so concurrent writers queue instead of failing mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["ebhxh.accounts.backends.LoginIdentifierBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
OFFICER_TOTP_REQUIRED = env_bool("OFFICER_TOTP_REQUIRED", True)
OTP_TOTP_ISSUER = "ebhxh"

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "ebhxh" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION", "us-east-1"),
            "access_key": env_secret("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_secret("S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": "path",
            "default_acl": None,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ebhxh <no-reply@ebhxh.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 30
else:
    # Embedded default: every message becomes a file in the local outbox folder.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox"

# --- Cache, rate limits and one-time codes (ebhxh.notify) -------------------------------------
# Rate-limit counters must be shared by every process that serves requests: gunicorn runs several
# workers, so Django's default per-process memory cache would let each count on its own. Default:
# a table in the database (atomic increments, see ebhxh/notify/cache.py); or Redis.
CACHE_REDIS_URL = env_secret("CACHE_REDIS_URL")
if CACHE_REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": "ebhxh",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "ebhxh.notify.cache.DatabaseCache",
            "LOCATION": "ebhxh_cache",
            # Culling drops live entries once the table is full; keep room for many counters.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env_bool("RATE_LIMIT_ENABLED", True)
_RATE = re.compile(r"[1-9][0-9]*/[0-9]*[smhd]")


def _rate(value: str, name: str) -> str:
    if not _RATE.fullmatch(value.strip()):
        raise ImproperlyConfigured(f"{name}={value!r}: expected a rate such as 10/m, 20/h or 5/15m")
    return value.strip()


_code_rate = _rate(env_str("RATE_LIMIT_CODE", "5/h"), "RATE_LIMIT_CODE")
# Named limits for ebhxh.notify.ratelimits: each rule counts per client IP ("ip") or per submitted
# identifier such as a login name or an e-mail address ("identifier").
RATE_LIMITS = {
    "login": {
        "ip": _rate(env_str("RATE_LIMIT_LOGIN", "10/m"), "RATE_LIMIT_LOGIN"),
        "identifier": _rate(
            env_str("RATE_LIMIT_LOGIN_IDENTIFIER", "20/h"), "RATE_LIMIT_LOGIN_IDENTIFIER"
        ),
    },
    "registration": {
        "ip": _rate(env_str("RATE_LIMIT_REGISTRATION", "5/h"), "RATE_LIMIT_REGISTRATION"),
    },
    "code": {"ip": _code_rate, "identifier": _code_rate},
    "lookup": {"ip": _rate(env_str("RATE_LIMIT_LOOKUP", "30/h"), "RATE_LIMIT_LOOKUP")},
}
ONE_TIME_CODE_TTL_SECONDS = env_int("ONE_TIME_CODE_TTL_SECONDS", 600)
ONE_TIME_CODE_MAX_ATTEMPTS = 5
if ONE_TIME_CODE_TTL_SECONDS < 60:
    raise ImproperlyConfigured("ONE_TIME_CODE_TTL_SECONDS must be at least 60")

# --- Background tasks (Celery) ----------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL")
if not CELERY_TASK_ALWAYS_EAGER and not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL is required when CELERY_TASK_ALWAYS_EAGER is false"
    )
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
# Eager mode must not raise task errors into a request whose data is already
# committed; failures are recorded by the task_failure handler (ebhxh/celery.py).
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "audit-verify-chain": {"task": "ebhxh.audit.tasks.verify_chain", "schedule": 24 * 3600.0},
    "registrations-daily": {"task": "ebhxh.registrations.tasks.daily", "schedule": 24 * 3600.0},
    "dossiers-resume": {"task": "ebhxh.dossiers.tasks.resume", "schedule": 60.0},
    "processing-daily-digest": {
        "task": "ebhxh.processing.tasks.daily_digest",
        "schedule": 3600.0,  # hourly: sends each supervisor's digest once a day, after 07:00
    },
}

# --- Digital signatures -------------------------------------------------------------------
# RSA-SHA1 signatures are refused (SIG-SHA1-DISABLED) unless this legacy switch is on.
SIGNATURE_ALLOW_SHA1 = env_bool("SIGNATURE_ALLOW_SHA1", False)
# hard-fail: refuse when a certificate names a CRL/OCSP source that cannot be checked;
# soft-fail: accept then, with a note in the report; require: demand revocation info for every certificate.
SIGNATURE_REVOCATION_MODE = env_str("SIGNATURE_REVOCATION_MODE", "hard-fail")
if SIGNATURE_REVOCATION_MODE not in {"hard-fail", "soft-fail", "require"}:
    raise ImproperlyConfigured("SIGNATURE_REVOCATION_MODE must be hard-fail, soft-fail or require")
SIGNATURE_FETCH_REVOCATION = env_bool("SIGNATURE_FETCH_REVOCATION", True)
SIGNATURE_FETCH_TIMEOUT = env_int("SIGNATURE_FETCH_TIMEOUT", 10)
# Certificate decisions are remembered per process this long (0: never); see docs/signatures.md.
SIGNATURE_CACHE_SECONDS = env_int("SIGNATURE_CACHE_SECONDS", 60)
# The agency seal: a PKCS#12 file, or a key on a PKCS#11 token/HSM. When neither is set, the demo seal
# under DATA_DIR/demo-pki (created by seed_demo) is used, with a warning.
SEAL_PKCS12_FILE = env_str("SEAL_PKCS12_FILE")
SEAL_PKCS12_PASSWORD = env_secret("SEAL_PKCS12_PASSWORD")
SEAL_PKCS11_MODULE = env_str("SEAL_PKCS11_MODULE")
SEAL_PKCS11_TOKEN = env_str("SEAL_PKCS11_TOKEN")
SEAL_PKCS11_KEY_LABEL = env_str("SEAL_PKCS11_KEY_LABEL")
SEAL_PKCS11_PIN = env_secret("SEAL_PKCS11_PIN")
DEMO_PKI_DIR = DATA_DIR / "demo-pki"

# --- Dossier intake (docs/intake.md)
DOSSIER_MAX_BYTES = env_int(
    "DOSSIER_MAX_BYTES", 50 * 1024 * 1024
)  # one BHXHDienTu.xml, as received
DOSSIER_FILE_MAX_BYTES = env_int("DOSSIER_FILE_MAX_BYTES", 10 * 1024 * 1024)  # one file inside it
DOSSIER_POLL_SECONDS = env_int("DOSSIER_POLL_SECONDS", 5)  # what the 202 tells software to wait
# A dossier still SUBMITTED this long after it arrived is queued again (its task was lost in a crash).
DOSSIER_RESUME_AFTER_SECONDS = env_int("DOSSIER_RESUME_AFTER_SECONDS", 120)

# --- Security ---------------------------------------------------------------------------------
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
# Reverse proxies in front of ebhxh: the client IP of the audit trail is the Nth X-Forwarded-For
# entry from the right. 0 trusts no header and uses the connection's address.
AUDIT_TRUSTED_PROXIES = env_int("AUDIT_TRUSTED_PROXIES", 0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if SECURE_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- API -------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 100
