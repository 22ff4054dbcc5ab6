"""After every purchase an e-mail « Vous venez d'utiliser vos droits formation » with a link
« Ce n'est pas moi »: it freezes the purchases, cancels the dossiers still in their
rétractation window and opens an assistance case."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ContactRequest
from cpf_portal.testing import text
from dossiers.models import Dossier
from dossiers.states import Status
from dossiers.tests import factories as f
from financing import services as ledger
from notifications.models import Email
from securite.models import AccountFreeze

pytestmark = pytest.mark.django_db


def accept_through_the_page(client, dossier, confirm_purchase):
    confirm_purchase(dossier.titulaire, dossier)
    assert client.post(reverse("dossiers:accept", args=[dossier.numero]), f.card_post(dossier)).status_code == 302


def test_the_purchase_email_and_not_me(
    client, titulaire_with_rights, organisme, organisme_user, confirm_purchase, mailoutbox, send_queued_emails, django_capture_on_commit_callbacks
):
    client.force_login(titulaire_with_rights)
    dossier = f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)
    with django_capture_on_commit_callbacks(execute=True):
        accept_through_the_page(client, dossier, confirm_purchase)
    send_queued_emails()
    mail = next(m for m in mailoutbox if m.subject == "Vous venez d'utiliser vos droits formation")
    assert organisme.raison_sociale in mail.body and "droits formation utilisés : 750,00\u00a0€" in mail.body
    assert "payé par carte : 120,00\u00a0€" in mail.body
    link = re.search(r"https?://[^/\s]+(/ce-n-est-pas-moi/\S+/)", mail.body).group(1)
    assert link not in Email.objects.get(subject=mail.subject).body_text  # masked in the outbox
    available_before = ledger.balances(ledger.account_for(titulaire_with_rights))["available"]

    # The link works without logging in (the account may be in someone else's hands).
    client.logout()
    page = text(client.get(link))
    assert f"Vous n'avez pas fait l'achat du dossier n° {dossier.numero}" in page
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED  # nothing on GET
    done = text(client.post(link))
    assert "Vos achats sont bloqués" in done and f"Dossier n° {dossier.numero}" in done
    dossier.refresh_from_db()
    assert dossier.status == Status.CANCELLED_BY_TITULAIRE
    assert ledger.balances(ledger.account_for(titulaire_with_rights))["available"] == available_before + 75_000  # rights given back
    freeze = AccountFreeze.objects.get(user=titulaire_with_rights)
    assert freeze.active and freeze.case.subject == ContactRequest.Subject.DEMARCHAGE and dossier.numero in freeze.case.message
    # Twice: the same freeze, no second case.
    client.post(link)
    assert ContactRequest.objects.count() == 1

    # No new purchase until an operator lifts it.
    client.force_login(titulaire_with_rights)
    other = f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)
    confirm_purchase(titulaire_with_rights, other)
    assert "Vos achats sont bloqués depuis le" in text(client.get(reverse("dossiers:accept", args=[other.numero])))
    refused = client.post(reverse("dossiers:accept", args=[other.numero]), {"version": other.version, "expected_reste_cents": 0})
    assert refused.status_code == 403 and f"demande n° {freeze.case.reference}" in text(refused)
    from securite import services

    services.freeze_lift(freeze=freeze, by=None)
    assert "Vos achats sont bloqués" not in text(client.get(reverse("dossiers:accept", args=[other.numero])))


def test_a_dossier_past_its_retractation_is_not_cancelled(client, titulaire_with_rights, organisme, organisme_user):
    from django.core import signing

    from securite import services

    dossier = f.accepted(titulaire_with_rights, f.session_for(organisme), organisme_user)
    Dossier.objects.filter(pk=dossier.pk).update(retractation_until=timezone.now() - timezone.timedelta(minutes=1))
    token = signing.dumps({"u": titulaire_with_rights.pk, "d": dossier.pk}, salt=services.NOT_ME_SALT)
    freeze, cancelled = services.not_me(token=token)
    assert freeze.active and cancelled == []
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED


def test_a_forged_or_foreign_link_is_refused(client, titulaire_with_rights, other_titulaire, organisme, organisme_user):
    from django.core import signing

    from securite import services

    dossier = f.accepted(titulaire_with_rights, f.session_for(organisme), organisme_user)
    forged = signing.dumps({"u": titulaire_with_rights.pk, "d": dossier.pk}, salt="autre")
    foreign = signing.dumps({"u": other_titulaire.pk, "d": dossier.pk}, salt=services.NOT_ME_SALT)
    for token, message in [(forged, "Ce lien n'est pas valide ou a expiré."), (foreign, "Ce lien ne correspond à aucun achat.")]:
        response = client.post(reverse("securite:not-me", args=[token]))
        assert response.status_code == 404 and message in text(response)
    assert not AccountFreeze.objects.exists()
