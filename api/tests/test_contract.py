"""The API keeps its contract: schemathesis generates requests from the OpenAPI document (valid
and invalid ones) against the live application with a key of an organisme that has dossiers
in several states; no answer is a 500, every answer has a documented status, content type and
body. Bounded in time: a few examples per operation, no deadline."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from api import keys
from api.v1 import api
from dossiers.tests import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def contract_key(db, organisme, organisme_user, titulaire_with_rights):
    for status in ("sent", "proposed", "accepted", "in_training"):
        f.dossier_in(status, titulaire=titulaire_with_rights, session=f.session_for(organisme), organisme_user=organisme_user)
    _key, plain = keys.key_create(
        organisme=organisme, name="Contrat", scopes=["catalogue", "dossiers", "facturation"], expires_at=None, by=organisme_user
    )
    return plain


# The document the API serves (the same as /api/v1/openapi.json), called in process (WSGI).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_its_contract(case, contract_key, django_settings):
    # identity: the in-process client does not inflate gzip (a real client does)
    case.call_and_validate(headers={"Authorization": f"Bearer {contract_key}", "Accept-Encoding": "identity"}, checks=CHECKS)


@pytest.fixture
def django_settings(settings):
    """The application as served, in the test's transaction: the end of a request must not
    close the test's database connection (as Django's own test client arranges)."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.CPF_API_RATE = "100000/m"
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield settings
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
