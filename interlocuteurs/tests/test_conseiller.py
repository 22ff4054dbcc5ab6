"""The conseiller (interlocuteur chosen by titulaires) sees their dossiers and adds abondements."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import ConseillerFactory, TitulaireFactory
from cpf_portal.testing import text
from dossiers import services
from dossiers.models import DossierAbondement
from dossiers.tests import factories as f
from dossiers.workflow import Status
from financing import services as money
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(organisme, conseiller, titulaire_with_rights, organisme_user, session):
    titulaire_with_rights.interlocuteur = conseiller.structure
    titulaire_with_rights.save(update_fields=["interlocuteur"])
    return {"organisme": organisme, "conseiller": conseiller, "titulaire": titulaire_with_rights, "staff": organisme_user, "session": session}


def detail(dossier):
    return reverse("interlocuteurs:conseiller-detail", args=[dossier.numero])


def post_abondement(client, dossier, amount="300", follow=False):
    return client.post(detail(dossier), {"amount": amount, "version": dossier.version}, follow=follow)


def test_home_lists_only_the_dossiers_of_their_titulaires(client, cast):
    mine = f.sent(cast["titulaire"], cast["session"])
    stranger = TitulaireFactory(last_name="Inconnu")
    f.give_rights(stranger, 75_000)
    theirs = f.sent(stranger, f.session_for(cast["organisme"]))
    f.draft(TitulaireFactory(interlocuteur=cast["conseiller"].structure), cast["session"])  # drafts stay private
    client.force_login(cast["conseiller"])
    page = text(client.get(reverse("interlocuteurs:conseiller-home")))
    assert mine.numero in page and "Camille Durand" in page
    assert theirs.numero not in page and "Inconnu" not in page
    assert "France Travail Metz Nord" in page


def test_home_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    for _ in range(12):
        titulaire = TitulaireFactory(interlocuteur=cast["conseiller"].structure)
        f.give_rights(titulaire, 75_000)
        f.sent(titulaire, cast["session"])
    client.force_login(cast["conseiller"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("interlocuteurs:conseiller-home"))
    assert response.status_code == 200 and text(response).count("Envoyé") >= 12


def test_another_conseiller_gets_404(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(ConseillerFactory())
    assert client.get(detail(dossier)).status_code == 404
    assert post_abondement(client, dossier).status_code == 404
    assert not DossierAbondement.objects.exists()


def test_titulaire_and_organisme_cannot_enter_the_conseiller_space(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    for user in (cast["titulaire"], cast["staff"]):
        client.force_login(user)
        assert client.get(reverse("interlocuteurs:conseiller-home")).status_code == 403
        assert client.get(detail(dossier)).status_code == 403
    client.logout()
    assert client.get(detail(dossier)).status_code == 302  # to the login page


@pytest.mark.parametrize("stage", ["sent", "proposed"])
def test_abondement_recomputes_the_split_and_tells_the_titulaire(client, cast, stage):
    if stage == "sent":
        dossier = f.sent(cast["titulaire"], cast["session"])
    else:
        dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    participation = money.participation_on(timezone.localdate())
    assert dossier.droits_cents == 75_000 and dossier.reste_a_payer_cents == 87_000 - 75_000
    client.force_login(cast["conseiller"])
    response = post_abondement(client, dossier, amount="300,00")
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.abondements_cents == 30_000
    # The abondement comes first; the rights cover what is left up to the price less the participation.
    assert dossier.droits_cents == 87_000 - participation - 30_000
    assert dossier.reste_a_payer_cents == participation
    assert dossier.droits_cents + dossier.abondements_cents + dossier.reste_a_payer_cents == 87_000
    abondement = DossierAbondement.objects.get()
    assert abondement.financeur == DossierAbondement.Financeur.FRANCE_TRAVAIL and abondement.financeur_name == "France Travail Metz Nord"
    assert abondement.added_by == cast["conseiller"]
    note = Notification.objects.get(user=cast["titulaire"], title__startswith="Un abondement")
    assert "300,00\u00a0€" in note.title and dossier.numero in note.title
    page = text(client.get(detail(dossier)))
    assert "Abondement de 300,00\u00a0€ ajouté" in page and "France Travail Metz Nord : 300,00\u00a0€" in page


def test_accepting_after_an_abondement_debits_only_the_rights(client, cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["conseiller"])
    post_abondement(client, dossier, amount="500")
    dossier.refresh_from_db()
    droits = dossier.droits_cents
    dossier = services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=cast["titulaire"],
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=dossier.reste_a_payer_cents,
    )
    assert dossier.status == Status.ACCEPTED
    balances = money.balances(money.account_for(cast["titulaire"]))
    assert balances["available"] == 75_000 - droits


def test_no_abondement_once_accepted(client, cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["conseiller"])
    page = text(client.get(detail(dossier)))
    assert "Ajouter l'abondement" not in page
    response = post_abondement(client, dossier, follow=True)
    assert "Un abondement s'ajoute quand le dossier est envoyé ou proposé par l'organisme" in text(response)
    assert not DossierAbondement.objects.exists()


@pytest.mark.parametrize(
    "amount, message",
    [
        ("", "Ce champ est obligatoire"),
        ("0", "Le montant doit être d'au moins 1 €."),
        ("abc", "Saisissez un nombre"),
        ("1,234", "2 chiffres après la virgule"),
    ],
)
def test_bad_amount_is_told_next_to_the_field(client, cast, amount, message):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["conseiller"])
    response = post_abondement(client, dossier, amount=amount)
    assert response.status_code == 400 and message in text(response)
    assert not DossierAbondement.objects.exists()


def test_stale_version_changes_nothing(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["conseiller"])
    response = client.post(detail(dossier), {"amount": "100", "version": dossier.version - 1}, follow=True)
    assert "Le dossier a changé entre-temps" in text(response)
    assert not DossierAbondement.objects.exists()


def test_service_refuses_a_stale_version_under_the_lock(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    with pytest.raises(services.TransitionNotAllowed, match="Le dossier a changé entre-temps"):
        services.abondement_add(
            dossier=dossier,
            financeur=DossierAbondement.Financeur.FRANCE_TRAVAIL,
            financeur_name="France Travail Metz Nord",
            amount_cents=10_000,
            by=cast["conseiller"],
            expected_version=dossier.version - 1,
        )
    assert not DossierAbondement.objects.exists()
