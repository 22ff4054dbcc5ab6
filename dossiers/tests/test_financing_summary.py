"""« Mon financement » stays on the titulaire's dossier page at every state after the draft:
price, abondements (a conseiller's too, with who added it), droits, reste à payer, the
participation forfaitaire, and the receipt of the card payment once paid."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cpf_portal.money import euros
from cpf_portal.testing import text
from dossiers import services
from dossiers.states import Actor, Status
from dossiers.tests import factories as f
from financing import services as ledger

pytestmark = pytest.mark.django_db

AFTER_DRAFT = [
    Status.SENT,
    Status.PROPOSED,
    Status.ACCEPTED,
    Status.IN_TRAINING,
    Status.SERVICE_DONE,
    Status.DEBITED,
    Status.REFUSED_BY_ORGANISME,
    Status.CANCELLED_BY_TITULAIRE,
    Status.CANCELLED_BY_ORGANISME,
    Status.EXPIRED,
]
PAID = {Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_DONE, Status.DEBITED, Status.CANCELLED_BY_ORGANISME}


def summary(page: str) -> str:
    start = page.index('id="mon-financement"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("status", AFTER_DRAFT)
def test_the_financing_stays_in_sight_at_every_state(client, titulaire_with_rights, session, organisme_user, status):
    dossier = f.dossier_in(status, titulaire=titulaire_with_rights, session=session, organisme_user=organisme_user)
    participation = ledger.participation_on(timezone.localdate())
    client.force_login(titulaire_with_rights)
    block = summary(text(client.get(reverse("dossiers:detail", args=[dossier.numero]))))
    assert "Prix de la formation" in block and "870,00\u00a0€" in block
    assert "Droits formation" in block and "− 750,00\u00a0€" in block
    assert "Reste à payer" in block and "120,00\u00a0€" in block
    assert f"participation forfaitaire obligatoire de {euros(participation)}" in block
    if status in PAID:
        dossier.refresh_from_db()
        receipt = dossier.payment.receipt_number
        assert f"Reçu n° {receipt}" in block
        assert reverse("financing:receipt", args=[dossier.payment.public_id]) in block
        assert reverse("documents:receipt", args=[dossier.payment.public_id]) in block
    else:
        assert "Reçu n°" not in block


def test_the_draft_keeps_its_own_split_and_no_summary(client, titulaire_with_rights, session):
    dossier = f.draft(titulaire_with_rights, session)
    client.force_login(titulaire_with_rights)
    page = text(client.get(reverse("dossiers:detail", args=[dossier.numero])))
    assert 'id="mon-financement"' not in page and 'id="reste-a-payer"' in page


def _later(dossier, stage, titulaire, staff):
    """From a sent dossier (its abondement added) to ``stage`` by the real transitions."""
    if stage == "sent":
        return dossier
    session = dossier.session
    payload = {
        "price_cents": session.price_cents,
        "start_date": session.start_date,
        "end_date": session.end_date,
        "duree_heures": session.formation.duree_heures,
    }
    dossier = services.dossier_transition(dossier_id=dossier.pk, name="propose", actor=Actor.ORGANISME, by=staff, payload=payload)
    if stage == "proposed":
        return dossier
    dossier = services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=titulaire,
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=dossier.reste_a_payer_cents - dossier.avoir_cents,
    )
    if stage == "accepted":
        return dossier
    dossier = f._fire(dossier, "enter", Actor.ORGANISME, staff, now=f.after_start(dossier))
    exit_payload = {"exit_reason": "complete", "completion_rate": 100, "exit_date": dossier.effective_end_date, "force_majeure": False}
    dossier = f._fire(dossier, "declare_service_done", Actor.ORGANISME, staff, exit_payload, now=f.after_start(dossier, days=5))
    return f._fire(dossier, "validate_service", Actor.SYSTEM, None, now=dossier.deadline_at)


@pytest.mark.parametrize("stage", ["sent", "proposed", "accepted", "debited"])
def test_a_conseillers_abondement_is_shown_with_who_added_it(client, titulaire_with_rights, session, organisme_user, conseiller, stage):
    dossier = f.sent(titulaire_with_rights, session)
    services.abondement_add(
        dossier=dossier, financeur="france_travail", financeur_name="France Travail Metz Nord", amount_cents=30_000, by=conseiller
    )
    dossier = _later(dossier, stage, titulaire_with_rights, organisme_user)
    participation = ledger.participation_on(timezone.localdate())
    client.force_login(titulaire_with_rights)
    block = summary(text(client.get(reverse("dossiers:detail", args=[dossier.numero]))))
    assert "Abondement France Travail (France Travail Metz Nord)" in block and "− 300,00\u00a0€" in block
    assert f"Ajouté par votre conseiller {conseiller.get_full_name()}" in block
    assert f"− {euros(87_000 - participation - 30_000)}" in block  # the rights pay less
    assert f"<strong>{euros(participation)}</strong>" in block  # the reste à payer: the participation
