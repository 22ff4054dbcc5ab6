"""« Demander un financement complémentaire »: the titulaire asks his interlocuteur, the
structure's conseiller grants (an abondement, the split recomputed) or refuses with a reason."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import ConseillerFactory, StructureFactory, TitulaireFactory
from cpf_portal.errors import ConflictError
from cpf_portal.money import euros
from cpf_portal.testing import text
from dossiers import services as dossier_services
from dossiers.models import DossierAbondement
from dossiers.tests import factories as f
from dossiers.workflow import Actor, Status
from financing import services as ledger
from interlocuteurs import services
from interlocuteurs.models import CofinancingRequest
from notifications.models import Email, Notification

pytestmark = pytest.mark.django_db
PRICE = 87_000


@pytest.fixture
def cast(organisme, conseiller, titulaire_with_rights, organisme_user, session):
    titulaire_with_rights.interlocuteur = conseiller.structure
    titulaire_with_rights.save(update_fields=["interlocuteur"])
    return {"organisme": organisme, "conseiller": conseiller, "titulaire": titulaire_with_rights, "staff": organisme_user, "session": session}


def participation():
    return ledger.participation_on(timezone.localdate())


def ask(cast, dossier, amount_cents=None, message="Je suis inscrit depuis six mois."):
    return services.cofinancing_request_create(dossier=dossier, by=cast["titulaire"], amount_cents=amount_cents, message=message)


def sent_by(titulaire, session, employment_status=None):
    dossier = f.draft(titulaire, session, employment_status=employment_status)
    return dossier_services.dossier_transition(dossier_id=dossier.pk, name="send", actor=Actor.TITULAIRE, by=titulaire, payload={"consent": True})


def request_url(cofinancing):
    return reverse("interlocuteurs:conseiller-request", args=[cofinancing.public_id])


def form_url(dossier):
    return reverse("interlocuteurs:cofinancing-request", args=[dossier.numero])


def dossier_page(client, dossier):
    return text(client.get(reverse("dossiers:detail", args=[dossier.numero])))


# --- Services ---------------------------------------------------------------------------------


def test_a_request_tells_the_conseillers_of_the_structure(cast, django_capture_on_commit_callbacks):
    dossier = f.sent(cast["titulaire"], cast["session"])
    colleague = ConseillerFactory(structure=cast["conseiller"].structure)
    with django_capture_on_commit_callbacks(execute=True):
        cofinancing = ask(cast, dossier, amount_cents=12_000)
    assert cofinancing.status == CofinancingRequest.Status.PENDING and cofinancing.structure == cast["conseiller"].structure
    assert cofinancing.reste_a_payer_cents == PRICE - 75_000
    for conseiller in (cast["conseiller"], colleague):
        note = Notification.objects.get(user=conseiller)
        assert note.title == f"Demande de financement complémentaire : dossier n° {dossier.numero}"
        assert "Camille Durand" in note.body and "montant demandé 120,00\u00a0€" in note.body and "six mois" in note.body
        assert note.url == request_url(cofinancing)
    assert set(Email.objects.filter(subject__startswith="Demande de financement").values_list("to", flat=True)) == {
        cast["conseiller"].email,
        colleague.email,
    }
    assert not Notification.objects.filter(user=cast["titulaire"], title__icontains="financement complémentaire").exists()


def test_without_a_conseiller_account_the_structure_address_receives_the_request(cast):
    structure = StructureFactory(name="Mission locale de Metz", type="mission_locale", email="ml.metz@structures.example")
    cast["titulaire"].interlocuteur = structure
    cast["titulaire"].save(update_fields=["interlocuteur"])
    ask(cast, f.sent(cast["titulaire"], cast["session"]))
    assert list(Email.objects.filter(subject__startswith="Demande de financement").values_list("to", flat=True)) == ["ml.metz@structures.example"]


def test_one_open_request_per_dossier(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    first = ask(cast, dossier)
    with pytest.raises(ConflictError, match="attend déjà une réponse"):
        ask(cast, dossier)
    services.cofinancing_refuse(cofinancing=first, by=cast["conseiller"], reason="Budget de l'année épuisé.")
    second = ask(cast, dossier)  # answered: a new one may be made
    assert CofinancingRequest.objects.filter(dossier=dossier).count() == 2 and second.is_pending


def test_nothing_left_to_pay_is_refused(cast):
    rich = TitulaireFactory(interlocuteur=cast["conseiller"].structure)
    f.give_rights(rich, 200_000)
    dossier = sent_by(rich, cast["session"], employment_status="demandeur_emploi")  # exempt: rights pay everything
    assert dossier.reste_a_payer_cents == 0
    with pytest.raises(services.CofinancingError, match="Il ne reste rien à payer sur ce dossier"):
        services.cofinancing_request_create(dossier=dossier, by=rich)
    assert not CofinancingRequest.objects.exists()


@pytest.mark.parametrize(
    "interlocuteur, message",
    [
        (None, "Choisissez d'abord votre interlocuteur"),
        ("cep", "ne finance pas de formation"),
    ],
)
def test_the_request_goes_to_an_interlocuteur_that_finances(cast, interlocuteur, message):
    cast["titulaire"].interlocuteur = StructureFactory(type=interlocuteur, name="CEP Metz") if interlocuteur else None
    cast["titulaire"].save(update_fields=["interlocuteur"])
    with pytest.raises(services.CofinancingError, match=message):
        ask(cast, f.sent(cast["titulaire"], cast["session"]))


def test_no_request_on_a_draft_or_an_accepted_dossier(cast):
    for dossier in (f.draft(cast["titulaire"], cast["session"]), f.accepted(cast["titulaire"], f.session_for(cast["organisme"]), cast["staff"])):
        with pytest.raises(services.CofinancingError, match="quand le dossier est envoyé ou proposé"):
            ask(cast, dossier)


def test_grant_adds_the_abondement_recomputes_the_split_and_tells_the_titulaire(cast, django_capture_on_commit_callbacks):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    cofinancing = ask(cast, dossier)
    with django_capture_on_commit_callbacks(execute=True):
        services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=30_000, expected_version=dossier.version)
    cofinancing.refresh_from_db()
    dossier.refresh_from_db()
    assert cofinancing.status == CofinancingRequest.Status.GRANTED and cofinancing.answered_by == cast["conseiller"]
    abondement = cofinancing.abondement
    assert (abondement.amount_cents, abondement.financeur, abondement.financeur_name) == (30_000, "france_travail", "France Travail Metz Nord")
    # Abondement first: it brings the reste à payer down to the participation, the rest of it
    # spares rights (a salarié: France Travail's abondement exempts no one by itself).
    assert dossier.abondements_cents == 30_000
    assert dossier.reste_a_payer_cents == participation()
    assert dossier.droits_cents == PRICE - participation() - 30_000
    notes = Notification.objects.filter(user=cast["titulaire"], title__contains="Financement complémentaire")
    assert [n.title for n in notes] == [f"Financement complémentaire accordé : 300,00\u00a0€ pour votre dossier n° {dossier.numero}"]
    assert "vos droits utilisés sont désormais de" in notes[0].body and not Notification.objects.filter(title__startswith="Un abondement").exists()
    assert Email.objects.filter(to=cast["titulaire"].email, subject__startswith="Financement complémentaire accordé").count() == 1


def test_a_france_travail_abondement_for_a_jobseeker_clears_what_is_left(cast):
    jobseeker = cast["titulaire"]
    dossier = sent_by(jobseeker, cast["session"], employment_status="demandeur_emploi")
    # A jobseeker pays no participation forfaitaire: the rights pay 750 €, 120 € are left.
    assert (dossier.participation_cents, dossier.droits_cents, dossier.reste_a_payer_cents) == (0, 75_000, 12_000)
    cofinancing = ask(cast, dossier, amount_cents=12_000)
    services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=12_000, expected_version=dossier.version)
    dossier.refresh_from_db()
    assert (dossier.abondements_cents, dossier.droits_cents, dossier.reste_a_payer_cents, dossier.participation_cents) == (12_000, 75_000, 0, 0)
    assert dossier.exemption == ledger.JOBSEEKER


def test_refuse_needs_a_reason_and_tells_the_titulaire(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    with pytest.raises(services.CofinancingError, match="Indiquez le motif du refus"):
        services.cofinancing_refuse(cofinancing=cofinancing, by=cast["conseiller"], reason="  ")
    services.cofinancing_refuse(cofinancing=cofinancing, by=cast["conseiller"], reason="Formation hors de votre projet validé.")
    cofinancing.refresh_from_db()
    assert cofinancing.status == CofinancingRequest.Status.REFUSED and cofinancing.reason == "Formation hors de votre projet validé."
    note = Notification.objects.get(user=cast["titulaire"], title__startswith="Financement complémentaire refusé")
    assert "Motif : Formation hors de votre projet validé." in note.body
    assert not DossierAbondement.objects.exists()
    with pytest.raises(ConflictError, match="déjà reçu une réponse"):
        services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=1_000)


def test_only_a_conseiller_of_the_structure_answers(cast):
    cofinancing = ask(cast, f.sent(cast["titulaire"], cast["session"]))
    for stranger in (ConseillerFactory(), cast["titulaire"]):
        with pytest.raises(services.CofinancingError, match="Seul un conseiller de la structure"):
            services.cofinancing_grant(cofinancing=cofinancing, by=stranger, amount_cents=1_000)
    assert not DossierAbondement.objects.exists()


def test_a_grant_once_the_dossier_is_accepted_changes_nothing(cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    cofinancing = ask(cast, dossier)
    dossier = dossier_services.dossier_pay_and_accept(
        dossier=dossier,
        titulaire=cast["titulaire"],
        card=f.CARD,
        idempotency_key=uuid.uuid4(),
        expected_version=dossier.version,
        expected_reste_cents=dossier.reste_a_payer_cents,
    )
    with pytest.raises(dossier_services.DossierError, match="avant son acceptation"):
        services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=1_000)
    cofinancing.refresh_from_db()
    assert cofinancing.is_pending and not DossierAbondement.objects.exists()
    assert not CofinancingRequest.objects.waiting().exists()  # no longer in the conseiller's list


def test_the_abondement_cannot_exceed_the_price(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    with pytest.raises(services.CofinancingError, match="ne peut pas dépasser le prix de la formation"):
        services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=PRICE + 1)
    assert CofinancingRequest.objects.get().is_pending


def test_the_titulaire_cancels_his_waiting_request(cast):
    cofinancing = ask(cast, f.sent(cast["titulaire"], cast["session"]))
    with pytest.raises(services.CofinancingError):
        services.cofinancing_request_cancel(cofinancing=cofinancing, by=TitulaireFactory())
    services.cofinancing_request_cancel(cofinancing=cofinancing, by=cast["titulaire"])
    cofinancing.refresh_from_db()
    assert cofinancing.status == CofinancingRequest.Status.CANCELLED
    with pytest.raises(ConflictError):
        services.cofinancing_grant(cofinancing=cofinancing, by=cast["conseiller"], amount_cents=1_000)


# --- The titulaire's pages ------------------------------------------------------------------


def test_the_dossier_page_offers_the_request_then_shows_its_status(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    page = dossier_page(client, dossier)
    assert (
        "Demander un financement complémentaire</button>" in page and "Votre demande sera envoyée à <strong>France Travail Metz Nord</strong>" in page
    )
    assert "il baisse les droits utilisés" in page
    response = client.post(form_url(dossier), {"cofi-amount": "120,00", "cofi-message": "Merci de votre aide."})
    assert response.status_code == 302 and response["Location"].endswith("#financement-complementaire")
    page = dossier_page(client, dossier)
    assert "Votre demande de financement complémentaire est envoyée à France Travail Metz Nord." in page
    assert "En attente de réponse" in page and "120,00\u00a0€ demandés" in page and "Merci de votre aide." in page
    assert "Demander un financement complémentaire</button>" not in page
    assert CofinancingRequest.objects.get().amount_cents == 12_000


def test_an_empty_amount_asks_for_the_reste_a_payer(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    assert client.post(form_url(dossier), {"cofi-amount": "", "cofi-message": ""}).status_code == 302
    assert CofinancingRequest.objects.get().amount_cents is None


@pytest.mark.parametrize(("amount", "message"), [("0", "Le montant doit être d'au moins 1 €."), ("abc", "Saisissez un nombre")])
def test_a_bad_amount_is_told_next_to_the_field(client, cast, amount, message):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    response = client.post(form_url(dossier), {"cofi-amount": amount, "cofi-message": ""})
    page = text(response)
    assert response.status_code == 400 and message in page and "<title>Erreur – Demander un financement complémentaire" in page
    assert not CofinancingRequest.objects.exists()


def test_nothing_to_pay_is_told_on_the_page_and_refused(client, cast):
    rich = TitulaireFactory(interlocuteur=cast["conseiller"].structure)
    f.give_rights(rich, 200_000)
    dossier = sent_by(rich, cast["session"], employment_status="demandeur_emploi")
    client.force_login(rich)
    page = dossier_page(client, dossier)
    assert "Il ne reste rien à payer sur ce dossier" in page and "Demander un financement complémentaire</button>" not in page
    response = client.post(form_url(dossier), {"cofi-amount": "", "cofi-message": ""})
    assert response.status_code == 400 and "Il ne reste rien à payer sur ce dossier" in text(response)
    assert not CofinancingRequest.objects.exists()


def test_a_second_request_is_refused_with_a_message(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    ask(cast, dossier)
    client.force_login(cast["titulaire"])
    response = client.post(form_url(dossier), {"cofi-amount": "", "cofi-message": ""})
    assert response.status_code == 409 and "attend déjà une réponse" in text(response)
    assert CofinancingRequest.objects.count() == 1


def test_another_titulaire_gets_404(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(TitulaireFactory(interlocuteur=cast["conseiller"].structure))
    assert client.get(form_url(dossier)).status_code == 404
    assert client.post(form_url(dossier), {"cofi-amount": "", "cofi-message": ""}).status_code == 404
    cancel = reverse("interlocuteurs:cofinancing-cancel", args=[dossier.numero, cofinancing.public_id])
    assert client.post(cancel).status_code == 404
    assert CofinancingRequest.objects.get().is_pending


def test_the_titulaire_cancels_from_his_page(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(cast["titulaire"])
    response = client.post(reverse("interlocuteurs:cofinancing-cancel", args=[dossier.numero, cofinancing.public_id]), follow=True)
    page = text(response)
    assert "Votre demande de financement complémentaire est annulée." in page and "Vous avez annulé cette demande" in page
    assert "Demander un financement complémentaire</button>" in page  # he may ask again


# --- The conseiller's pages -------------------------------------------------------------------


def test_the_list_shows_the_waiting_requests_with_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    ask(cast, f.sent(cast["titulaire"], cast["session"]), amount_cents=5_000)
    stranger = TitulaireFactory(last_name="Inconnu", interlocuteur=ConseillerFactory().structure)
    f.give_rights(stranger, 75_000)
    services.cofinancing_request_create(dossier=f.sent(stranger, cast["session"]), by=stranger)
    client.force_login(cast["conseiller"])
    with django_assert_max_num_queries(12) as few:
        page = text(client.get(reverse("interlocuteurs:conseiller-requests")))
    assert "Camille Durand" in page and "50,00\u00a0€" in page and "Inconnu" not in page
    for _ in range(10):
        titulaire = TitulaireFactory(interlocuteur=cast["conseiller"].structure)
        f.give_rights(titulaire, 75_000)
        services.cofinancing_request_create(dossier=f.sent(titulaire, cast["session"]), by=titulaire)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("interlocuteurs:conseiller-requests"))
    assert response.status_code == 200 and text(response).count("Dossier n° ") >= 11
    home = text(client.get(reverse("interlocuteurs:conseiller-home")))
    assert "11 demandes attendent votre réponse." in home


def test_the_conseiller_grants_and_the_titulaire_sees_the_new_split(client, cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    cofinancing = ask(cast, dossier, amount_cents=12_000)
    client.force_login(cast["conseiller"])
    page = text(client.get(request_url(cofinancing)))
    assert "Je suis inscrit depuis six mois." in page and "Accorder l'abondement</button>" in page and "Refuser la demande</button>" in page
    assert 'value="120,00"' in page  # the amount asked, ready to grant
    # The conseiller reads the titulaire's financing in the third person.
    assert "Financement du dossier" in page and "Droits disponibles du titulaire aujourd'hui" in page
    assert "Mon financement" not in page and "Vos droits" not in page
    response = client.post(request_url(cofinancing), {"action": "accorder", "amount": "120,00", "version": dossier.version}, follow=True)
    page = text(response)
    assert "Abondement de 120,00\u00a0€ accordé" in page and "Accordée le" in page and "Accorder l'abondement</button>" not in page
    client.force_login(cast["titulaire"])
    page = dossier_page(client, dossier)
    droits = PRICE - participation() - 12_000
    assert "France Travail Metz Nord finance 120,00\u00a0€ de votre formation" in page
    assert "Mon financement" in page
    assert f"− {euros(droits)}" in page and euros(participation()) in page


def test_refusing_without_a_reason_is_told_next_to_the_field(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(cast["conseiller"])
    response = client.post(request_url(cofinancing), {"action": "refuser", "reason": "   "})
    assert response.status_code == 400 and "Indiquez le motif du refus : le titulaire le lira." in text(response)
    assert CofinancingRequest.objects.get().is_pending
    response = client.post(request_url(cofinancing), {"action": "refuser", "reason": "Votre projet n'est pas validé."}, follow=True)
    assert "Demande refusée" in text(response)
    client.force_login(cast["titulaire"])
    page = dossier_page(client, dossier)
    assert "Refusée" in page and "Motif : Votre projet n'est pas validé." in page


def test_a_bad_grant_amount_is_told_next_to_the_field(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(cast["conseiller"])
    response = client.post(request_url(cofinancing), {"action": "accorder", "amount": "0", "version": dossier.version})
    assert response.status_code == 400 and "Le montant doit être d'au moins 1 €." in text(response)
    response = client.post(request_url(cofinancing), {"action": "accorder", "amount": "5000", "version": dossier.version})
    assert response.status_code == 400 and "ne peut pas dépasser le prix de la formation" in text(response)
    assert not DossierAbondement.objects.exists()


def test_another_structure_gets_404_and_others_403(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(ConseillerFactory())
    assert client.get(request_url(cofinancing)).status_code == 404
    assert client.post(request_url(cofinancing), {"action": "accorder", "amount": "100", "version": dossier.version}).status_code == 404
    assert "Camille Durand" not in text(client.get(reverse("interlocuteurs:conseiller-requests")))
    for user in (cast["titulaire"], cast["staff"]):
        client.force_login(user)
        assert client.get(request_url(cofinancing)).status_code == 403
        assert client.get(reverse("interlocuteurs:conseiller-requests")).status_code == 403
    assert not DossierAbondement.objects.exists()


def test_a_request_on_a_dossier_gone_further_waits_no_more(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    dossier_services.dossier_transition(dossier_id=dossier.pk, name="cancel_request", actor=Actor.TITULAIRE, by=cast["titulaire"])
    client.force_login(cast["conseiller"])
    page = text(client.get(request_url(cofinancing)))
    assert "Le dossier n'attend plus de financement" in page and "Accorder l'abondement</button>" not in page
    client.force_login(cast["titulaire"])
    assert "cette demande est restée sans réponse" in dossier_page(client, dossier)
    assert CofinancingRequest.objects.get().dossier.status == Status.CANCELLED_BY_TITULAIRE


def test_the_conseiller_dossier_page_links_its_requests(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    cofinancing = ask(cast, dossier)
    client.force_login(cast["conseiller"])
    page = text(client.get(reverse("interlocuteurs:conseiller-detail", args=[dossier.numero])))
    assert f'href="{request_url(cofinancing)}"' in page and "en attente de réponse" in page
    assert "il baisse les droits utilisés" in page  # what an abondement changes, the same words everywhere


def test_the_help_page_says_what_an_abondement_changes(client):
    page = text(client.get(reverse("aide-cpf")))
    assert "Il baisse d'abord votre reste à payer, quand vos droits ne suffisaient pas" in page
    assert "demander un financement complémentaire à votre interlocuteur" in page
