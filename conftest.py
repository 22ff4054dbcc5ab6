"""The cast and the ground rules shared by every test.

The cast (one object per role; ``other_*`` for the isolation matrix):

- ``titulaire``, ``other_titulaire``: activated titulaires without rights; ``titulaire_with_rights``
  (Camille Durand, 750 € of rights as in the seed);
- ``organisme`` (CP-FORMATION) and its staff ``organisme_user``; ``other_organisme`` and
  ``other_organisme_user``;
- ``structure`` (an agence France Travail) and its ``conseiller``;
- ``operator``;
- ``session``: an 870 € session of ``organisme`` starting in 20 working days;
- ``make_dossier(status)``: a dossier of ``titulaire_with_rights`` on ``session`` brought to any state
  through the real services (``dossiers.services.dossier_transition``), so the ledger stays true.

Celery is not eager: a task runs when a test runs it. ``send_queued_emails()`` sends every
e-mail of the outbox that is still queued (what the ``send_email`` task does after commit);
``real_worker`` starts a Celery worker process on the test run's Redis.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import Client as DjangoClient
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import (
    ConseillerFactory,
    OperatorFactory,
    OrganismeStaffFactory,
    StructureFactory,
    TitulaireFactory,
)
from accounts.two_factor import confirmed_app, needs_second_factor
from catalogue.tests.factories import OrganismeFactory
from cpf_portal.testing import worker_broker_url
from dossiers.tests.factories import dossier_in, give_rights, session_for

BASE_DIR = Path(__file__).resolve().parent
RIGHTS_CENTS = 75_000


# --- Parallel runs (pytest-xdist) -----------------------------------------------------------


def pytest_configure(config):
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # The cache's keys carry numbers of this run's test database (catalogue generations):
    # each process and run has its own key space in the shared Redis.
    settings.CACHES["default"]["KEY_PREFIX"] = f"cpf-test-{worker or 'main'}-{uuid.uuid4().hex[:8]}"
    if worker:
        from cpf_portal.celery import app

        # Before anything connects; a test may still point app.conf.broker_url elsewhere for a
        # while (an environment variable CELERY_BROKER_URL would win over it, so none is set).
        settings.CELERY_BROKER_URL = app.conf.broker_url = worker_broker_url(settings.CELERY_BROKER_URL, worker)


# --- Ground rules ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage of production needs collectstatic; tests serve from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "private"}},
    }


@pytest.fixture(autouse=True)
def _production_rights(settings):
    """The rules of production: a new account holds 0 € (no simulated DSN, which a test asks
    for with ``settings.CPF_SIMULATED_DSN = True``) and the DIF entry closed at its legal deadline."""
    settings.CPF_SIMULATED_DSN = False
    settings.CPF_DIF_DEADLINE = settings.DIF_LEGAL_DEADLINE


@pytest.fixture(autouse=True)
def _strict_templates(settings):
    """An undefined variable in a template fails the test instead of rendering as nothing."""
    for engine in settings.TEMPLATES:
        engine.setdefault("OPTIONS", {})["string_if_invalid"] = InvalidTemplateVariable("%s")


class InvalidTemplateVariable(str):
    def __mod__(self, other):
        raise AssertionError(f"Variable de gabarit inconnue : {other!r}")


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connection_at_teardown(django_db_setup, django_db_blocker):
    """At the end of the run, end any session still open on the test database (a worker
    process or a live-server thread slower to close than the run), so that the database is
    dropped instead of failing the last test's teardown."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")


# --- Tasks ----------------------------------------------------------------------------------


@pytest.fixture
def send_queued_emails():
    """Send every queued outbox e-mail, as the ``send_email`` task would after the commit;
    return how many left. Call it after the on_commit callbacks ran (or the request returned)."""
    from notifications import services
    from notifications.models import Email

    def send() -> int:
        ids = Email.objects.filter(status=Email.Status.QUEUED).order_by("created_at", "pk").values_list("pk", flat=True)
        return sum(services.email_send(email_id) for email_id in list(ids))

    return send


def _test_database_url() -> str:
    """DATABASE_URL of the test database (this xdist worker's), for a worker process."""
    from django.conf import settings
    from django.db import connection

    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def real_worker(tmp_path):
    """A Celery worker process on the test run's broker (this xdist worker's Redis database)
    and test database; yields the path of its log. Tasks left in the queue by earlier tests
    are purged first."""
    from cpf_portal.celery import app

    app.control.purge()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": app.conf.broker_url,  # this xdist worker's Redis database
        "DEBUG": "true",
        "CPF_SIMULATED_DSN": "false",
        "EMAIL_URL": "consolemail://",
    }
    command = [sys.executable, "-m", "celery", "-A", "cpf_portal", "worker", "--pool=solo", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- Logging in -----------------------------------------------------------------------------


class Client(DjangoClient):
    """``force_login`` logs a person fully in: for organisme staff and operators, the session
    also holds their authenticator app as verified (the second factor itself is tested through
    the real pages in ``accounts/tests/test_two_factor.py``)."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if needs_second_factor(user):
            device = confirmed_app(user) or TOTPDevice.objects.create(user=user, name="Test", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def new_client():
    """Another browser: ``new_client()`` (same ``force_login``)."""
    return Client


# --- The cast -------------------------------------------------------------------------------


@pytest.fixture
def password():
    return "Formation2020"


@pytest.fixture
def titulaire(db, password):
    return TitulaireFactory(password=password)


@pytest.fixture
def other_titulaire(db, password):
    return TitulaireFactory(password=password)


@pytest.fixture
def titulaire_with_rights(db, password):
    """Camille Durand, with the seed's 750 € of rights (an 870 € training leaves 120 € to pay)."""
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand", password=password)
    give_rights(titulaire, RIGHTS_CENTS)
    return titulaire


@pytest.fixture
def organisme(db):
    return OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")


@pytest.fixture
def other_organisme(db):
    return OrganismeFactory()


@pytest.fixture
def organisme_user(db, organisme, password):
    return OrganismeStaffFactory(organisme=organisme, password=password)


@pytest.fixture
def other_organisme_user(db, other_organisme, password):
    return OrganismeStaffFactory(organisme=other_organisme, password=password)


@pytest.fixture
def structure(db):
    return StructureFactory(name="France Travail Metz Nord")


@pytest.fixture
def conseiller(db, structure, password):
    return ConseillerFactory(structure=structure, password=password)


@pytest.fixture
def operator(db, password):
    return OperatorFactory(password=password)


@pytest.fixture
def session(db, organisme):
    return session_for(organisme, price_cents=87_000)


@pytest.fixture
def make_dossier(titulaire_with_rights, session, organisme_user):
    """``make_dossier(status, titulaire=…, session=…, organisme_user=…)``: a dossier brought to
    ``status`` (a ``dossiers.workflow.Status``) by the real transitions; by default the
    dossier of ``titulaire_with_rights`` on ``session``, handled by ``organisme_user``."""
    defaults = {"titulaire": titulaire_with_rights, "session": session, "organisme_user": organisme_user}

    def make(status, **cast):
        return dossier_in(status, **{**defaults, **cast})

    return make


@pytest.fixture
def confirm_purchase():
    """Give a titulaire the strong confirmation an acceptance needs (as his TOTP app would,
    through the acceptance page: securite's tests walk that)."""
    from securite import services

    def confirm(titulaire, dossier):
        return services.confirm(user=titulaire, purpose=services.purpose_of(dossier), method="totp")

    return confirm
