"""/metrics: Prometheus text, reserved to the token holder or the loopback address; the
business gauges say what the database says after a few actions."""

import datetime
import uuid

import pytest
from celery.signals import task_failure
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cpf_portal import health, metrics
from dossiers.tasks import process_deadlines
from dossiers.tests.factories import draft, give_rights, sent, session_for
from financing.models import Payment
from notifications.models import Email

pytestmark = pytest.mark.django_db

TOKEN = "jeton-de-supervision-0123456789"


@pytest.fixture(autouse=True)
def _clean_ops_keys():
    client = health.redis_client()
    client.delete(metrics.TASK_FAILURES_KEY, metrics.JOB_RUNS_KEY, "celery")
    yield
    client.delete(metrics.TASK_FAILURES_KEY, metrics.JOB_RUNS_KEY, "celery")


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="10.1.2.3", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.mark.parametrize(
    "headers, remote, expected",
    [
        ({}, "10.1.2.3", 403),
        ({"HTTP_AUTHORIZATION": "Bearer mauvais-jeton-0123456789"}, "10.1.2.3", 403),
        ({"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, "10.1.2.3", 200),
        ({}, "127.0.0.1", 200),
        ({}, "::1", 200),
        # A request relayed by a proxy on the same machine is not a local request.
        ({"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "127.0.0.1", 403),
    ],
)
def test_metrics_are_reserved_to_the_token_or_the_loopback(client, settings, headers, remote, expected):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == expected
    if expected == 403:
        assert b"cpf_dossiers" not in response.content


def test_without_a_token_only_the_loopback_gets_in(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_business_gauges_after_a_few_actions(client, settings, titulaire, other_titulaire, organisme):
    settings.METRICS_TOKEN = TOKEN
    give_rights(titulaire, 500_000)
    give_rights(other_titulaire, 500_000)
    session = session_for(organisme)
    sent(titulaire, session)
    sent(other_titulaire, session)
    draft(titulaire, session_for(organisme))
    Email.objects.all().delete()
    Email.objects.create(to="a@exemple.fr", template="t", subject="s", body_text="b", created_at=timezone.now() - datetime.timedelta(minutes=30))
    Email.objects.create(to="b@exemple.fr", template="t", subject="s", body_text="b")
    Email.objects.create(to="c@exemple.fr", template="t", subject="s", body_text="b", status=Email.Status.SENT)
    for cents, status in [(12_000, "succeeded"), (3_050, "succeeded"), (7_000, "failed")]:
        Payment.objects.create(
            user=titulaire,
            purpose="Reste à charge",
            reference=f"X{cents}",
            amount_cents=cents,
            status=status,
            idempotency_key=uuid.uuid4(),
            provider="test",
        )
    redis = health.redis_client()
    redis.rpush("celery", "t1", "t2", "t3")
    failing = type("Task", (), {"name": "notifications.tasks.send_email"})()
    task_failure.send(sender=failing, task_id="x", exception=RuntimeError("boom"))
    task_failure.send(sender=failing, task_id="y", exception=RuntimeError("boom"))
    process_deadlines()

    samples = scrape(client)

    assert value(samples, "cpf_dossiers", status="sent") == 2
    assert value(samples, "cpf_dossiers", status="draft") == 1
    assert value(samples, "cpf_dossiers", status="accepted") == 0
    assert value(samples, "cpf_outbox_emails_queued") == 2
    assert 30 * 60 - 5 <= value(samples, "cpf_outbox_oldest_queued_age_seconds") <= 30 * 60 + 60
    assert value(samples, "cpf_payments", status="succeeded") == 2
    assert value(samples, "cpf_payments_amount_cents", status="succeeded") == 15_050
    assert value(samples, "cpf_payments_amount_cents", status="failed") == 7_000
    assert value(samples, "cpf_payments", status="refunded") == 0
    assert value(samples, "cpf_celery_queue_length", queue="celery") == 3
    assert value(samples, "cpf_celery_task_failures_total", task="notifications.tasks.send_email") == 2
    assert value(samples, "cpf_job_last_duration_seconds", job="process_deadlines") >= 0
    assert value(samples, "cpf_job_last_finished_timestamp_seconds", job="process_deadlines") == pytest.approx(timezone.now().timestamp(), abs=60)


def test_http_and_database_metrics_per_view(client, settings):
    settings.METRICS_TOKEN = TOKEN
    client.get("/aide/")
    client.get("/aide/")
    samples = scrape(client)
    by_view = {labels: v for (name, labels), v in samples.items() if name == "django_http_requests_total_by_view_transport_method_total"}
    assert any(dict(labels).get("view") == "aide" and v >= 2 for labels, v in by_view.items())
    assert any(name == "django_http_requests_latency_seconds_by_view_method_count" for name, _ in samples)
    assert any(name == "django_db_execute_total" and v > 0 for (name, _), v in samples.items())


def test_a_source_down_does_not_hide_the_other_metrics(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    samples = scrape(client)
    assert ("cpf_outbox_emails_queued", ()) in samples
    assert not any(name == "cpf_celery_queue_length" for name, _ in samples)
