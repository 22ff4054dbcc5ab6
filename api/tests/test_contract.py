"""The API keeps its contract: schemathesis generates requests from the OpenAPI document (valid
and invalid ones) against the live application, on `make run`'s demo data with its key; no
answer is a 500, every answer has a documented status, content type and body. Bounded in
time: a few examples per operation, no deadline."""

import io

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from api.v1 import api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The document the API serves (the same as /api/v1/openapi.json), called in process (WSGI).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def demo_key(db, django_settings):
    """`make run`'s demo data (CP-FORMATION's dossiers in every step, invoices, its key)."""
    from cpf_portal.management.commands.load_demo import DEMO_API_KEY

    call_command("load_demo", formations=20, stdout=io.StringIO())
    return DEMO_API_KEY


def test_the_api_keeps_its_contract_on_the_demo_data(demo_key):
    # identity: the in-process client does not inflate gzip (a real client does)
    headers = {"Authorization": f"Bearer {demo_key}", "Accept-Encoding": "identity"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def keeps_its_contract(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        keeps_its_contract()


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
