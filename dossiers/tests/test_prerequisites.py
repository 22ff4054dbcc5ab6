"""A formation with prérequis: the organisme acknowledges the request within 2 jours ouvrés,
then has 30 days from the request to answer (docs/regles.md §6, [apifop][cpf10])."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cpf_portal.testing import text
from dossiers import services
from dossiers.deadlines import deadline_after
from dossiers.tests import factories as f
from dossiers.workflow import Actor, DossierError, Status
from notifications.models import Notification

NOON = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)  # a Tuesday


@pytest.fixture
def with_prerequisites(session):
    session.action.prerequis = "Niveau B1 attesté (test de positionnement)."
    session.action.save(update_fields=["prerequis"])
    return session


def acknowledge(dossier, staff, **extra):
    return services.dossier_transition(dossier_id=dossier.pk, name="acknowledge", actor=Actor.ORGANISME, by=staff, **extra)


@time_machine.travel(NOON, tick=False)
def test_acknowledged_in_time_the_organisme_has_30_days_from_the_request(titulaire_with_rights, with_prerequisites, organisme_user):
    dossier = f.sent(titulaire_with_rights, with_prerequisites)
    assert dossier.with_prerequisites and dossier.deadline_at == deadline_after(dossier.sent_at, 2)
    dossier = acknowledge(dossier, organisme_user)
    assert dossier.status == Status.SENT and dossier.acknowledged_at == timezone.now()
    # End of 31/12/2026 (30 days after 01/12), Paris time.
    assert timezone.localtime(dossier.deadline_at) == datetime.datetime(2027, 1, 1, tzinfo=timezone.get_current_timezone())
    told = Notification.objects.get(user=titulaire_with_rights, title__startswith="Votre demande n°")
    assert "au plus tard le 31/12/2026" in told.body
    # Day 10: still open; day 31: expired.
    assert services.expire_overdue(now=timezone.now() + datetime.timedelta(days=10)) == 0
    with pytest.raises(DossierError):
        acknowledge(dossier, organisme_user)  # once only
    assert services.expire_overdue(now=timezone.now() + datetime.timedelta(days=31)) == 1
    dossier.refresh_from_db()
    assert dossier.status == Status.EXPIRED


@time_machine.travel(NOON, tick=False)
def test_without_acknowledgement_the_request_lapses_after_2_jours_ouvres(titulaire_with_rights, with_prerequisites, organisme_user):
    dossier = f.sent(titulaire_with_rights, with_prerequisites)
    assert services.expire_overdue(now=dossier.deadline_at + datetime.timedelta(seconds=1)) == 1
    dossier.refresh_from_db()
    assert dossier.status == Status.EXPIRED


def test_no_acknowledgement_for_a_formation_without_prerequisites(titulaire_with_rights, session, organisme_user):
    dossier = f.sent(titulaire_with_rights, session)
    assert not dossier.with_prerequisites
    with pytest.raises(DossierError, match="pas de prérequis"):
        acknowledge(dossier, organisme_user)


def test_the_organisme_page_offers_the_acknowledgement_and_then_shows_the_new_deadline(
    client, titulaire_with_rights, with_prerequisites, organisme_user
):
    dossier = f.sent(titulaire_with_rights, with_prerequisites)
    client.force_login(organisme_user)
    url = reverse("dossiers:organisme-detail", args=[dossier.numero])
    page = client.get(url).content.decode()
    assert "Formation avec prérequis" in page and "Accuser réception de la demande" in page
    response = client.post(reverse("dossiers:organisme-action", args=[dossier.numero, "acknowledge"]), {"version": dossier.version})
    assert response.status_code == 302
    dossier.refresh_from_db()
    page = client.get(url).content.decode()
    assert "Accuser réception de la demande</button>" not in page
    assert f"vous avez jusqu'au {timezone.localtime(dossier.deadline_at - datetime.timedelta(seconds=1)):%d/%m/%Y}" in page
    # The Valider / Refuser forms stay: the organisme may answer at once.
    assert ">Valider<" in page


def test_the_contact_d_inscription_receives_the_new_dossier_e_mail(titulaire_with_rights, session, send_queued_emails):
    from django.core import mail

    session.action.contact_email = "inscriptions-anglais@cp-formation.example"
    session.action.save(update_fields=["contact_email"])
    dossier = f.sent(titulaire_with_rights, session)
    send_queued_emails()
    to_contact = [m for m in mail.outbox if m.to == ["inscriptions-anglais@cp-formation.example"]]
    assert [m.subject for m in to_contact] == [f"[Non traité] Dossier de formation n° {dossier.numero}"]
    # The batch notices (a lapsed request) go to the same contact.
    services.expire_overdue(now=dossier.deadline_at + datetime.timedelta(seconds=1))
    send_queued_emails()
    assert len([m for m in mail.outbox if m.to == ["inscriptions-anglais@cp-formation.example"]]) == 2


def test_the_history_names_the_acknowledgement_and_who_made_it_once(client, titulaire_with_rights, with_prerequisites, organisme_user):
    dossier = acknowledge(f.sent(titulaire_with_rights, with_prerequisites), organisme_user)
    client.force_login(organisme_user)
    organisme_page = text(client.get(reverse("dossiers:organisme-detail", args=[dossier.numero])))
    history = organisme_page.split("Historique du dossier")[1]
    assert "Dossier envoyé par le titulaire" in history and "Accusé de réception de la demande par vous" in history
    client.force_login(titulaire_with_rights)
    history = text(client.get(reverse("dossiers:detail", args=[dossier.numero]))).split("Historique du dossier")[1]
    assert "Dossier créé par vous" in history and "Accusé de réception de la demande par l'organisme" in history
    # The state is not repeated for a step that changes none, nor the actor in brackets.
    assert "Envoyé (en attente" not in history and "(organisme)" not in history
