"""Settings come from the environment and refuse bad values loudly."""

import datetime
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


# Set for the browser tests' event loop; a deployment never has it.
INHERITED = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_django(code: str, **env_overrides):
    env = {k: v for k, v in INHERITED.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"}}
    env.update({k: v for k, v in env_overrides.items() if v is not None})
    for key in [k for k, v in env_overrides.items() if v is None]:
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cpf_portal.settings'); {code}"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "www.moncompteformation.example",
    "EMAIL_URL": "smtp+tls://portail:motdepasse@smtp.example:587",
}


def test_production_settings_pass_check_deploy_without_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**INHERITED, **PRODUCTION},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DEBUG": "peut-être"}, "DEBUG='peut-être' n'est pas un booléen"),
        ({"SECRET_KEY": None}, "SECRET_KEY n'est pas défini"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS doit lister"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "seul moteur pris en charge"),
        ({"DATABASE_URL": ""}, "DATABASE_URL n'est pas défini"),
        ({"REDIS_URL": "memcache://localhost"}, "schéma attendu"),
        ({"CPF_DIF_DEADLINE": "31/12/2020"}, "n'est pas une date AAAA-MM-JJ"),
        ({"CPF_PASSWORD_MIN_LENGTH": "six"}, "n'est pas un nombre entier"),
        ({"CPF_PASSWORD_MIN_LENGTH": "4"}, "doit être au moins 8"),
        ({"EMAIL_URL": ""}, "EMAIL_URL n'est pas défini"),
        ({"STORAGE_URL": "s3://objets.example.fr/documents"}, "STORAGE_URL : la clé d'accès et le secret sont obligatoires"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' : valeurs possibles json, text"),
        ({"METRICS_TOKEN": "court"}, "METRICS_TOKEN doit compter au moins 20 caractères"),
        ({"SENTRY_DSN": "pas-une-url"}, "SENTRY_DSN invalide"),
        ({"HEALTH_BEAT_MAX_AGE_SECONDS": "10"}, "doit être au moins 60"),
        ({"DATABASE_POOLER": "pgpool"}, "DATABASE_POOLER='pgpool' : valeurs possibles pgbouncer ou vide"),
        ({"CPF_PURCHASE_FACTORS": "totp,sms"}, "CPF_PURCHASE_FACTORS : moyens inconnus ['sms']"),
    ],
)
def test_bad_values_stop_the_start(overrides, message):
    result = run_django("django.setup()", **{**PRODUCTION, **overrides})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_dif_deadline_is_the_law_s_in_production_open_in_the_demo_and_can_be_set():
    show = "from django.conf import settings; print(settings.CPF_DIF_DEADLINE, settings.CPF_SIMULATED_DSN)"
    production = run_django(show, **PRODUCTION, CPF_DIF_DEADLINE=None, CPF_SIMULATED_DSN=None)
    assert production.stdout.strip() == "2021-06-30 False"
    # `make run` (DEBUG): the simulated DSN credits new accounts and the DIF entry stays open.
    demo = run_django(show, DEBUG="true", CPF_DIF_DEADLINE=None, CPF_SIMULATED_DSN=None)
    assert demo.stdout.strip() == f"{datetime.date.today().year + 1}-06-30 True"
    production_with_demo = run_django(show, **PRODUCTION, CPF_DIF_DEADLINE=None, CPF_SIMULATED_DSN="true")
    assert production_with_demo.stdout.strip() == f"{datetime.date.today().year + 1}-06-30 True"
    moved = run_django(show, DEBUG="true", CPF_DIF_DEADLINE="2020-12-31", CPF_SIMULATED_DSN="false")
    assert moved.stdout.strip() == "2020-12-31 False"


def test_unix_socket_redis_is_given_to_celery_as_redis_socket():
    result = run_django("from django.conf import settings; print(settings.CELERY_BROKER_URL)", DEBUG="true", REDIS_URL="unix:///tmp/r.sock")
    assert result.stdout.strip() == "redis+socket:///tmp/r.sock"


def test_storage_url_moves_private_files_to_the_object_store():
    code = "django.setup(); from django.core.files.storage import storages; s = storages['default']; print(type(s).__name__, getattr(s, 'bucket_name', '-'))"
    local = run_django(code, DEBUG="true", STORAGE_URL=None)
    assert local.stdout.split() == ["FileSystemStorage", "-"], local.stderr
    s3 = run_django(code, DEBUG="true", STORAGE_URL="s3://cle:secret@objets.example.fr/documents")
    assert s3.stdout.split() == ["S3Storage", "documents"], s3.stderr


def test_logs_are_json_in_production_and_text_in_development():
    code = "from django.conf import settings; print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])"
    assert run_django(code, **PRODUCTION).stdout.split() == ["json", "json"]
    assert run_django(code, DEBUG="true", LOG_FORMAT=None).stdout.split() == ["text", "text"]
    assert run_django(code, DEBUG="true", LOG_FORMAT="json").stdout.split() == ["json", "json"]


def test_sentry_starts_only_with_a_dsn_and_without_personal_data():
    code = (
        "django.setup(); import sentry_sdk; client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options['send_default_pii'], client.options['before_send'].__module__)"
    )
    assert run_django(code, **PRODUCTION, SENTRY_DSN="https://cle@sentry.example/42").stdout.split() == ["True", "False", "cpf_portal.error_tracker"]
    inactive = run_django("django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())", **PRODUCTION, SENTRY_DSN=None)
    assert inactive.stdout.split() == ["False"]


def test_connections_are_reused_and_checked_and_pgbouncer_turns_server_side_cursors_off():
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    assert run_django(code, DEBUG="true", DATABASE_CONN_MAX_AGE=None, DATABASE_POOLER=None).stdout.split() == ["60", "True", "False"]
    assert run_django(code, DEBUG="true", DATABASE_CONN_MAX_AGE="0", DATABASE_POOLER="pgbouncer").stdout.split() == ["0", "True", "True"]
