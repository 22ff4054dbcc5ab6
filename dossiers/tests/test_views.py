import csv
import datetime
import io
import re
import uuid

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import TitulaireFactory
from catalogue.tests.factories import OrganismeFactory
from cpf_portal.testing import text
from dossiers.models import Dossier
from dossiers.tests import factories as f
from dossiers.workflow import Actor, Status
from financing import services as money
from financing.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(organisme, titulaire_with_rights, organisme_user, session):
    return {"organisme": organisme, "titulaire": titulaire_with_rights, "staff": organisme_user, "session": session}


def detail(dossier):
    return reverse("dossiers:detail", args=[dossier.numero])


def action(dossier, name):
    return reverse("dossiers:action", args=[dossier.numero, name])


def info_url(dossier):
    return reverse("dossiers:info", args=[dossier.numero])


def info_post(titulaire, **overrides):
    data = {"info-save_to_account": "on"}
    data.update({f"pro-{k}": v for k, v in f.PROFESSIONAL.items()})
    data.update({f"perso-{k}": v for k, v in {**f.PERSONAL, "email": titulaire.email}.items()})
    data["perso-email_confirm"] = titulaire.email
    data.update(overrides)
    return data


# --- Titulaire ------------------------------------------------------------------------------------


def test_register_shows_the_fonction_publique_notice_then_creates_the_dossier(client, cast):
    client.force_login(cast["titulaire"])
    url = reverse("dossiers:register", args=[cast["session"].public_id])
    page = text(client.get(url))
    assert "Si vous travaillez actuellement dans la fonction publique, mobilisez vos droits en contactant directement votre employeur" in page
    assert "Fermer" in page and "Continuer" in page
    assert not Dossier.objects.exists()  # nothing happens on GET
    response = client.post(url)
    dossier = Dossier.objects.get()
    assert response.url == detail(dossier) and dossier.status == Status.DRAFT
    assert client.post(url).url == detail(dossier)  # no second dossier


def test_draft_page_then_information_then_financing_then_send(client, cast, django_capture_on_commit_callbacks, send_queued_emails):
    titulaire = cast["titulaire"]
    client.force_login(titulaire)
    dossier = f.draft(titulaire, cast["session"], info=False)
    page = text(client.get(detail(dossier)))
    for wording in (
        "Récapitulatif",
        "Voir le détail",
        "Supprimer mon dossier",
        "Mes informations professionnelles",
        "Mes informations personnelles",
        "Enregistrer ces informations dans mon compte",
        "Valider",
        "870,00",
    ):
        assert wording in page, wording
    response = client.post(info_url(dossier), info_post(titulaire))
    assert response.status_code == 302
    titulaire.refresh_from_db()
    assert titulaire.city == "Metz"  # also saved in the account
    page = text(client.get(detail(dossier)))
    assert "Prix de la formation" in page and "Droits formation" in page and "Reste à payer" in page
    assert "J'accepte de prendre en charge le reste à payer de 120,00\u00a0€." in page
    assert "Envoyer mon dossier" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action(dossier, "send"), {"consent": "on", "version": dossier.version, "expected_reste_a_payer_cents": 12_000}, follow=True
        )
    send_queued_emails()
    assert f"Votre dossier n° {dossier.numero} est envoyé à l'organisme de formation." in text(response)
    dossier.refresh_from_db()
    assert dossier.status == Status.SENT
    from django.core import mail

    assert f"[Non traité] Dossier de formation n° {dossier.numero}" in [m.subject for m in mail.outbox]
    assert "inscriptions@cp-formation.example" in [m.to[0] for m in mail.outbox]


def test_rights_that_cover_the_price_show_the_cpf_consent(client, cast):
    titulaire = cast["titulaire"]
    money.abondement_add(account=money.account_for(titulaire), amount_cents=50_000, financeur="Employeur")
    titulaire.employment_status = "demandeur_emploi"
    titulaire.save()
    client.force_login(titulaire)
    dossier = f.draft(titulaire, cast["session"])
    page = text(client.get(detail(dossier)))
    assert "J'accepte d'utiliser mon crédit CPF" in page and "reste à payer de" not in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"perso-phone_mobile": ""}, "Un des deux numéros doit être renseigné."),
        ({"pro-diploma": ""}, "Indiquez votre diplôme le plus élevé"),
        ({"perso-postal_code": "57"}, "Le code postal compte 5 chiffres."),
    ],
)
def test_information_errors_are_told_and_nothing_is_saved(client, cast, overrides, message):
    client.force_login(cast["titulaire"])
    dossier = f.draft(cast["titulaire"], cast["session"], info=False)
    response = client.post(info_url(dossier), info_post(cast["titulaire"], **overrides))
    assert response.status_code == 400 and message in text(response)
    dossier.refresh_from_db()
    assert dossier.info_validated_at is None


def test_send_without_consent_is_refused(client, cast):
    client.force_login(cast["titulaire"])
    dossier = f.draft(cast["titulaire"], cast["session"])
    response = client.post(action(dossier, "send"), {"version": dossier.version, "expected_reste_a_payer_cents": 12_000})
    assert response.status_code == 400 and "Cochez la case pour accepter le financement" in text(response)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.DRAFT


def test_delete_draft(client, cast):
    client.force_login(cast["titulaire"])
    dossier = f.draft(cast["titulaire"], cast["session"])
    response = client.post(action(dossier, "delete"), {"version": dossier.version}, follow=True)
    assert "Votre dossier est supprimé." in text(response)
    assert client.get(detail(dossier)).status_code == 404


def test_stale_page_action_is_refused(client, cast):
    client.force_login(cast["titulaire"])
    dossier = f.sent(cast["titulaire"], cast["session"])
    response = client.post(action(dossier, "cancel_request"), {"version": dossier.version - 1}, follow=True)
    assert "changé entre-temps" in text(response)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SENT


def test_proposal_shows_changes_and_is_accepted_with_card_payment(client, cast, confirm_purchase):
    start = f.start_in_working_days(25)
    dossier = f.proposed(
        cast["titulaire"], cast["session"], cast["staff"], price_cents=90_000, start_date=start, end_date=start + datetime.timedelta(days=4)
    )
    confirm_purchase(cast["titulaire"], dossier)
    client.force_login(cast["titulaire"])
    page = text(client.get(detail(dossier)))
    assert "Proposition de l'organisme" in page and "900,00" in page and "Accepter la proposition" in page and "Refuser la proposition" in page
    accept_url = reverse("dossiers:accept", args=[dossier.numero])
    page = text(client.get(accept_url))
    assert "Paiement par carte bancaire" in page and "Payer 150,00\u00a0€ et accepter" in page
    key = str(uuid.uuid4())
    card = {
        "number": "4242 4242 4242 4242",
        "holder": "Camille Durand",
        "expiry": "12/30",
        "cvc": "987",
        "idempotency_key": key,
        "version": dossier.version,
        "expected_reste_cents": 15_000,
    }
    response = client.post(accept_url, card, follow=True)
    assert "Votre inscription est confirmée. Paiement de 150,00\u00a0€ accepté." in text(response)
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.locked_cents == 75_000
    # A double click (same form) neither pays nor changes anything again.
    client.post(accept_url, card)
    assert Payment.objects.count() == 1


def test_declined_card_is_told_and_the_proposal_stays(client, cast, confirm_purchase):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    confirm_purchase(cast["titulaire"], dossier)
    client.force_login(cast["titulaire"])
    card = {
        "number": "4000 0000 0000 0002",
        "holder": "C D",
        "expiry": "12/30",
        "cvc": "987",
        "idempotency_key": str(uuid.uuid4()),
        "version": dossier.version,
        "expected_reste_cents": 12_000,
    }
    response = client.post(reverse("dossiers:accept", args=[dossier.numero]), card, follow=True)
    assert "Paiement refusé par votre banque." in text(response)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.PROPOSED


@pytest.mark.parametrize(
    "field, value, message",
    [("number", "4242 4242 4242 4241", "n'est pas valide"), ("expiry", "01/20", "expirée"), ("cvc", "12", "3 chiffres")],
)
def test_card_errors_are_told_next_to_the_field(client, cast, field, value, message, confirm_purchase):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    confirm_purchase(cast["titulaire"], dossier)
    client.force_login(cast["titulaire"])
    card = {
        "number": "4242 4242 4242 4242",
        "holder": "C D",
        "expiry": "12/30",
        "cvc": "987",
        "idempotency_key": str(uuid.uuid4()),
        "version": dossier.version,
        "expected_reste_cents": 12_000,
    }
    card[field] = value
    response = client.post(reverse("dossiers:accept", args=[dossier.numero]), card)
    assert response.status_code == 400 and message in text(response)
    assert not Payment.objects.exists()


def test_decline_proposal(client, cast):
    dossier = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["titulaire"])
    client.post(action(dossier, "decline"), {"version": dossier.version})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.REFUSED_BY_TITULAIRE


def test_cancel_accepted_training(client, cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["titulaire"])
    page = text(client.get(detail(dossier)))
    assert "Votre inscription est confirmée" in page and "750,00" in page and "Annuler ma formation" in page
    client.post(action(dossier, "cancel"), {"version": dossier.version, "reason": "Changement de projet"})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.CANCELLED_BY_TITULAIRE
    assert money.balances(money.account_for(cast["titulaire"]))["available"] == 75_000


def test_my_dossiers_list(client, cast, django_assert_max_num_queries):
    client.force_login(cast["titulaire"])
    dossier = f.sent(cast["titulaire"], cast["session"])
    with django_assert_max_num_queries(10) as few:
        page = text(client.get(reverse("dossiers:list")))
    assert f"Dossier n° {dossier.numero}" in page and ">Envoyé</p>" in page
    assert "L'organisme de formation étudie votre demande" in page and "Réponse de l'organisme au plus tard le" in page
    for _ in range(8):
        f.draft(cast["titulaire"], f.session_for(cast["organisme"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("dossiers:list")).status_code == 200


def test_someone_elses_dossier_is_404_and_staff_get_403(client, cast, other_titulaire, organisme_user):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(other_titulaire)
    assert client.get(detail(dossier)).status_code == 404
    assert client.post(action(dossier, "cancel_request"), {"version": dossier.version}).status_code == 404
    assert client.get(reverse("dossiers:accept", args=[dossier.numero])).status_code == 404
    client.force_login(organisme_user)
    assert client.get(detail(dossier)).status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SENT


# --- Organisme ------------------------------------------------------------------------------------


def org_detail(dossier):
    return reverse("dossiers:organisme-detail", args=[dossier.numero])


def org_action(dossier, name):
    return reverse("dossiers:organisme-action", args=[dossier.numero, name])


def test_inbox_lists_own_sent_dossiers_with_deadlines(client, cast, django_assert_max_num_queries):
    own = f.sent(cast["titulaire"], cast["session"])
    f.draft(TitulaireFactory(), cast["session"])  # never shown before it is sent
    other_org = OrganismeFactory()
    foreign = f.sent(TitulaireFactory(), f.session_for(other_org))
    client.force_login(cast["staff"])
    with django_assert_max_num_queries(12) as few:
        page = text(client.get(reverse("dossiers:organisme-inbox")))
    assert f"Dossier n° {own.numero}" in page and "Non traité" in page and foreign.numero not in page
    assert page.count("Dossier n°") == 1
    for _ in range(6):
        f.sent(TitulaireFactory(), cast["session"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(client.get(reverse("dossiers:organisme-inbox"), {"status": "a_traiter"}))
    assert page.count("Non traité") >= 7


def test_inbox_csv_export(client, cast):
    own = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    response = client.get(reverse("dossiers:organisme-export"))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][:3] == ["numero", "etat", "titulaire"]
    assert rows[1][0] == own.numero and rows[1][1] == "Non traité" and rows[1][7] == "870,00"
    assert len(rows) == 2


def test_organisme_validates_with_a_changed_price(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    page = text(client.get(org_detail(dossier)))
    assert "Vérifier, ajuster ou modifier la proposition" in page and "Camille Durand" in page and "Valider" in page and "Refuser" in page
    start = f.start_in_working_days(20)
    response = client.post(
        org_action(dossier, "propose"),
        {
            "version": dossier.version,
            "price": "900,00",
            "start_date": start.isoformat(),
            "end_date": (start + datetime.timedelta(days=3)).isoformat(),
            "duree_heures": "12",
        },
        follow=True,
    )
    assert "Votre proposition est envoyée au titulaire." in text(response)
    dossier.refresh_from_db()
    assert dossier.status == Status.PROPOSED and dossier.proposed_price_cents == 90_000 and dossier.reste_a_payer_cents == 15_000


def test_organisme_proposal_too_soon_is_refused_with_a_message(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    soon = f.start_in_working_days(3)
    response = client.post(
        org_action(dossier, "propose"),
        {
            "version": dossier.version,
            "price": "870",
            "start_date": soon.isoformat(),
            "end_date": soon.isoformat(),
            "duree_heures": "10",
        },
        follow=True,
    )
    assert "11 jours ouvrés" in text(response)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SENT


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"price": "-3"}, "price", "ne peut pas être négatif"),
        ({"duree_heures": "0"}, "duree_heures", "au moins 1 heure"),
        ({"end_date": "2020-01-01"}, "end_date", "doit suivre"),
    ],
)
def test_organisme_proposal_form_errors(client, cast, data, field, message):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    start = f.start_in_working_days(20)
    post = {
        "version": dossier.version,
        "price": "870",
        "start_date": start.isoformat(),
        "end_date": (start + datetime.timedelta(days=3)).isoformat(),
        "duree_heures": "10",
        **data,
    }
    response = client.post(org_action(dossier, "propose"), post)
    assert response.status_code == 400 and any(message in str(e) for e in response.context["forms"]["propose"].errors[field])


def test_organisme_refuses_with_a_reason(client, cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    missing = client.post(org_action(dossier, "refuse"), {"version": dossier.version, "motive": ""})
    assert missing.status_code == 400 and "Indiquez le motif du refus." in text(missing)
    client.post(org_action(dossier, "refuse"), {"version": dossier.version, "motive": "Session complète"})
    dossier.refresh_from_db()
    assert dossier.status == Status.REFUSED_BY_ORGANISME and dossier.refusal_reason == "Session complète"


def test_entry_then_service_done(client, cast):
    dossier = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["staff"])
    early = client.post(org_action(dossier, "enter"), {"version": dossier.version}, follow=True)
    assert "premier jour de la session" in text(early)
    with time_machine.travel(f.after_start(dossier), tick=False):
        client.force_login(cast["staff"])
        client.post(org_action(dossier, "enter"), {"version": dossier.version})
        dossier.refresh_from_db()
        assert dossier.status == Status.IN_TRAINING
        page = text(client.get(org_detail(dossier)))
        assert "Déclarer la sortie / service fait" in page and "Taux de réalisation (%)" in page
        bad = client.post(
            org_action(dossier, "declare_service_done"),
            {
                "version": dossier.version,
                "exit_reason": "abandon",
                "completion_rate": "140",
                "exit_date": dossier.effective_start_date.isoformat(),
            },
        )
        assert bad.status_code == 400
        exit_date = (dossier.effective_start_date + datetime.timedelta(days=1)).isoformat()
        client.post(
            org_action(dossier, "declare_service_done"),
            {"version": dossier.version, "exit_reason": "abandon", "completion_rate": "50", "exit_date": exit_date},
        )
    dossier.refresh_from_db()
    assert dossier.status == Status.SERVICE_DONE and dossier.consumed_cents == 37_500


def test_other_organisme_gets_404_and_titulaire_403(client, cast, other_organisme_user, titulaire):
    dossier = f.sent(cast["titulaire"], cast["session"])
    client.force_login(other_organisme_user)
    assert client.get(org_detail(dossier)).status_code == 404
    assert client.post(org_action(dossier, "refuse"), {"version": dossier.version, "motive": "Session complète"}).status_code == 404
    client.force_login(titulaire)
    assert client.get(org_detail(dossier)).status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SENT


def test_rights_page_groups_each_dossiers_movements(client, cast, django_assert_max_num_queries):
    titulaire = cast["titulaire"]
    done = f.service_done(titulaire, cast["session"], cast["staff"], exit_reason="abandon", rate=60)
    f._fire(done, "validate_service", Actor.SYSTEM, None, now=done.deadline_at)
    client.force_login(titulaire)
    with django_assert_max_num_queries(30) as few:
        page = text(client.get(reverse("financing:rights")))
    assert "Mes droits par dossier" in page
    # 750 € blocked; 60 % done after an abandon: 450 € debited, 300 € given back, nothing still blocked.
    row = page.split(f"Dossier n° {done.numero}</a>")[1].split("</tr>")[0]
    assert [cell.split("</td>")[0].strip() for cell in re.split(r'<td class="cpf-amount"[^>]*>', row)[1:]] == [
        "750,00\u00a0€",
        "300,00\u00a0€",
        "450,00\u00a0€",
        "0,00\u00a0€",
    ]
    money._append(money.account_for(titulaire), "alimentation", 200_000, "Alimentation 2024", year=2024)
    for _ in range(2):
        f.accepted(titulaire, f.session_for(cast["organisme"]), cast["staff"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert text(client.get(reverse("financing:rights"))).count('<th scope="col">Encore bloqués</th>') == 1
