"""The cast and the ground rules shared by every test."""

import pytest

from accounts.tests.factories import OperatorFactory, OrganismeStaffFactory, TitulaireFactory
from catalogue.tests.factories import OrganismeFactory


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run inline when their on_commit callback fires; the broker path has its own
    integration test with a real worker (cpf_portal/tests/test_celery_worker.py)."""
    from cpf_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


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
def _strict_templates(settings):
    """An undefined variable in a template fails the test instead of rendering as nothing."""
    for engine in settings.TEMPLATES:
        engine.setdefault("OPTIONS", {})["string_if_invalid"] = InvalidTemplateVariable("%s")


class InvalidTemplateVariable(str):
    def __mod__(self, other):
        raise AssertionError(f"Variable de gabarit inconnue : {other!r}")


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
def organisme(db):
    return OrganismeFactory()


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
def operator(db, password):
    return OperatorFactory(password=password)
