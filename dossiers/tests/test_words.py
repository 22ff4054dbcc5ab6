"""Words and states: what each audience reads about a dossier (labels, next step, badges,
deadlines), the confirmation pages before what cannot be undone, and the words shown on
both sides (address, phone, prices, dossier number, DIF, punctuation)."""

import datetime
import importlib
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.template import Context, Template
from django.test import Client as PlainClient
from django.urls import reverse
from django.utils import timezone

from accounts.models import address_lines
from cpf_portal.forms import CpfForm
from cpf_portal.templatetags import no_final_stop, telephone
from cpf_portal.testing import text
from dossiers import display
from dossiers.models import Dossier
from dossiers.states import BillingState, ControlState, Status
from dossiers.tests import factories as f
from dossiers.views.titulaire import CONFIRMATIONS
from financing import services as money
from notifications import services as notices

DOUBLED = re.compile(r"[.!?:;]\s*[.:;]")
# Words of the organismes' back office (EDOF) a titulaire never reads.
JARGON = ("non traité", "service fait", "edof", "titulaire", "refus titulaire", "à traiter", "facturation")


def dossier(status, **fields) -> Dossier:
    return Dossier(status=status, **fields)


# --- Labels per audience (unit) -------------------------------------------------------------------


@pytest.mark.parametrize("audience", [display.TITULAIRE, display.ORGANISME])
@pytest.mark.parametrize("status", Status.values)
def test_every_state_has_a_label_and_one_next_step_sentence_per_audience(status, audience):
    text_ = display.state_text(dossier(status), audience, today=timezone.localdate())
    assert text_.label and text_.label == text_.label.strip()
    sentence = text_.next_step
    assert sentence[0].isupper() and sentence.endswith(".")
    assert not re.search(r"[.!?] [A-ZÀ-Ý]", sentence), f"one sentence only: {sentence}"
    assert not DOUBLED.search(sentence)
    assert text_.badge in ("", "new", "info", "success", "warning", "error")


def test_the_titulaire_reads_the_design_cards_names():
    labels = {status: display.TITULAIRE_STATES[status].label for status in Status.values}
    assert labels[Status.DRAFT] == "En cours de création"
    assert labels[Status.SENT] == "Envoyé"
    assert labels[Status.PROPOSED] == "Proposition de l'organisme"
    assert labels[Status.ACCEPTED] == "Accepté"
    assert labels[Status.IN_TRAINING] == "En formation"
    assert labels[Status.DEBITED] == "Débité"
    assert display.titulaire_label(Status.SENT) == Dossier(status=Status.SENT).titulaire_state.label


@pytest.mark.parametrize("status", Status.values)
def test_the_titulaire_never_reads_the_organismes_jargon(status):
    text_ = display.TITULAIRE_STATES[status]
    for word in JARGON:
        assert word not in text_.label.lower() and word not in text_.next_step.lower(), (status, word)


def test_the_titulaire_is_told_when_it_is_up_to_him():
    mine = {status for status, text_ in display.TITULAIRE_STATES.items() if text_.next_step.startswith("À vous d'agir")}
    assert mine == {Status.DRAFT, Status.PROPOSED}
    assert display.TITULAIRE_STATES[Status.PROPOSED].badge == "warning"
    assert all(text_.badge != "warning" for status, text_ in display.TITULAIRE_STATES.items() if status not in mine)


def organisme_situations():
    """Every state, plus the situations that change who acts (not started yet, in control,
    something to bill)."""
    today = timezone.localdate()
    later, earlier = today + datetime.timedelta(days=10), today - datetime.timedelta(days=1)
    yield from (dossier(status) for status in Status.values)
    yield dossier(Status.ACCEPTED, start_date=later)
    yield dossier(Status.ACCEPTED, start_date=earlier)
    yield dossier(Status.SERVICE_DONE, control_state=ControlState.IN_CONTROL)
    yield dossier(Status.IN_TRAINING, billing_state=BillingState.ACOMPTE_TO_BILL)
    yield dossier(Status.DEBITED, billing_state=BillingState.TO_BILL)
    yield dossier(Status.DEBITED, billing_state=BillingState.PAID)
    yield dossier(Status.CANCELLED_NOT_REALIZED, billing_state=BillingState.TO_BILL)


def test_organisme_badges_warn_only_when_the_organisme_must_act():
    today = timezone.localdate()
    for one in organisme_situations():
        text_ = display.state_text(one, display.ORGANISME, today=today)
        must_act = text_.next_step.startswith("À vous d'agir")
        assert (text_.badge == "warning") == must_act, (one.status, one.billing_state, text_)
        if not must_act:
            assert "à traiter" not in f"{text_.label} {text_.next_step}".lower(), text_


def test_organisme_mapping_per_situation():
    today = timezone.localdate()

    def read(one):
        return display.state_text(one, display.ORGANISME, today=today)

    assert read(dossier(Status.SENT)) == display.StateText("Non traité", read(dossier(Status.SENT)).next_step, "warning")
    assert read(dossier(Status.PROPOSED)).badge == "info" and "En attente du titulaire" in read(dossier(Status.PROPOSED)).next_step
    assert read(dossier(Status.ACCEPTED, start_date=today + datetime.timedelta(days=3))).badge == "info"
    assert read(dossier(Status.ACCEPTED, start_date=today)).badge == "warning"
    assert read(dossier(Status.SERVICE_DONE)).badge == "info"
    assert read(dossier(Status.SERVICE_DONE, control_state=ControlState.IN_CONTROL)).badge == "warning"
    assert read(dossier(Status.DEBITED, billing_state=BillingState.TO_BILL)).next_step == display.TO_BILL
    assert read(dossier(Status.DEBITED, billing_state=BillingState.BILLED)).badge == "success"
    assert read(dossier(Status.EXPIRED)).badge == ""


def test_deadlines_say_whose_they_are():
    deadline = timezone.make_aware(datetime.datetime(2026, 11, 24))
    sent, proposed = dossier(Status.SENT, deadline_at=deadline), dossier(Status.PROPOSED, deadline_at=deadline)
    assert display.deadline_text(sent, display.ORGANISME) == "À traiter au plus tard le 23/11/2026"
    assert display.deadline_text(proposed, display.ORGANISME) == "Réponse du titulaire attendue au plus tard le 23/11/2026"
    assert display.deadline_text(sent, display.TITULAIRE) == "Réponse de l'organisme au plus tard le 23/11/2026"
    assert display.deadline_text(proposed, display.TITULAIRE) == "À répondre au plus tard le 23/11/2026"
    assert display.deadline_text(dossier(Status.ACCEPTED), display.ORGANISME) == ""


# --- Formats (unit) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, shown",
    [("0612345678", "06 12 34 56 78"), ("+33 6 12 34 56 78", "06 12 34 56 78"), ("03.87.37.97.77", "03 87 37 97 77"), ("12", "12"), ("", "")],
)
def test_phone_filter(typed, shown):
    assert telephone(typed) == shown
    assert Template("{{ phone|telephone }}").render(Context({"phone": typed})) == shown


def test_addresses_are_written_whole():
    assert address_lines({"street_number": "12", "street_type": "RUE", "street_name": "Serpenoise", "postal_code": "57000", "city": "Metz"}) == [
        "12 rue Serpenoise",
        "57000 Metz",
    ]
    assert address_lines({"street_number": "3", "street_repetition": "B", "street_type": "AV", "street_name": "Foch", "city": "Metz"}) == [
        "3 bis avenue Foch",
        "Metz",
    ]
    # The type typed again in the name, or « Autre »: said once.
    assert address_lines({"street_number": "12", "street_type": "RUE", "street_name": "rue Serpenoise"})[0] == "12 rue Serpenoise"
    assert address_lines({"street_number": "5", "street_type": "AUT", "street_name": "Montée des Roses"})[0] == "5 Montée des Roses"


def test_prices_have_two_decimals_in_french():
    rendered = Template("{{ cents|euros }}").render(Context({"cents": 87_000}))
    assert rendered == "870,00\u00a0€"
    assert Template("{{ cents|euros }}").render(Context({"cents": 124_500})) == "1\u202f245,00\u00a0€"


def test_no_raw_money_in_the_templates():
    """An amount in cents reaches a page only through ``euros`` (a hidden form value aside)."""
    offenders = []
    for path in (settings.BASE_DIR / "templates").rglob("*.*"):
        if path.suffix in (".html", ".txt"):
            for line in path.read_text().splitlines():
                for match in re.findall(r"\{\{[^}]*\}\}", line):
                    if "_cents" in match and "|euros" not in match and f'value="{match}"' not in line:
                        offenders.append(f"{path.name}: {match}")
    assert offenders == []


def test_no_final_stop():
    assert (
        no_final_stop("J'accepte de prendre en charge le reste à payer de 103,20 €.") == "J'accepte de prendre en charge le reste à payer de 103,20 €"
    )
    assert no_final_stop("Motif : déménagement. ") == "Motif : déménagement"


def all_cpf_forms():
    for app in apps.get_app_configs():
        if (settings.BASE_DIR / app.label / "forms.py").exists():
            importlib.import_module(f"{app.name}.forms")
    seen, todo = [], list(CpfForm.__subclasses__())
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo += cls.__subclasses__()
    return seen


@pytest.mark.django_db
def test_error_summaries_never_double_the_punctuation():
    """Every form of the portal sent empty: each line of its error summary (« label :
    message ») reads without « . : » or « .. »."""
    checked = 0
    for cls in all_cpf_forms():
        try:
            form = cls(data={})
        except TypeError:  # needs arguments of its page (checked through its page below)
            continue
        form.is_valid()
        for _, label, error in form.error_summary:
            line = f"{label} : {error}"
            assert not DOUBLED.search(line), f"{cls.__name__}: {line}"
            checked += 1
    assert checked > 20


# --- Pages ----------------------------------------------------------------------------------------

pages = pytest.mark.django_db


@pytest.fixture
def cast(organisme, titulaire_with_rights, organisme_user, session):
    return {"organisme": organisme, "titulaire": titulaire_with_rights, "staff": organisme_user, "session": session}


def action(dossier, name):
    return reverse("dossiers:action", args=[dossier.numero, name])


@pages
def test_the_dossier_pages_say_the_state_and_the_next_step(client, cast):
    sent = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    page = text(client.get(reverse("dossiers:detail", args=[sent.numero])))
    assert '<span class="fr-badge fr-badge--info">Envoyé</span>' in page
    assert display.TITULAIRE_STATES[Status.SENT].next_step in page and "Réponse de l'organisme au plus tard le" in page
    client.force_login(cast["staff"])
    page = text(client.get(reverse("dossiers:organisme-detail", args=[sent.numero])))
    assert '<span class="fr-badge fr-badge--warning">Non traité</span>' in page and "À traiter au plus tard le" in page


@pages
def test_the_organisme_never_reads_a_traiter_while_the_titulaire_answers(client, cast):
    proposed = f.proposed(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["staff"])
    page = text(client.get(reverse("dossiers:organisme-detail", args=[proposed.numero])))
    assert "à traiter" not in page.lower() and "Réponse du titulaire attendue au plus tard le" in page
    assert '<span class="fr-badge fr-badge--info">Validé (en attente du titulaire)</span>' in page
    inbox = text(client.get(reverse("dossiers:organisme-inbox")))
    assert 'fr-badge--sm fr-badge--info">Validé (en attente du titulaire)' in inbox and "fr-badge--warning" not in inbox


@pages
def test_the_dossier_number_is_written_the_same_way_on_both_sides(client, cast):
    sent = f.sent(cast["titulaire"], cast["session"])
    written = f"Dossier n° {sent.numero}"
    client.force_login(cast["titulaire"])
    assert f"<h1>{written}</h1>" in text(client.get(reverse("dossiers:detail", args=[sent.numero])))
    assert f">{written}</a>" in text(client.get(reverse("dossiers:list")))
    client.force_login(cast["staff"])
    assert f"<h1>{written}</h1>" in text(client.get(reverse("dossiers:organisme-detail", args=[sent.numero])))
    assert f">{written}</a>" in text(client.get(reverse("dossiers:organisme-inbox")))


@pages
def test_the_organisme_reads_the_whole_address_and_a_formatted_phone(client, cast):
    sent = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["staff"])
    page = text(client.get(reverse("dossiers:organisme-detail", args=[sent.numero])))
    assert '<dd id="adresse">12 rue Serpenoise, 57000 Metz</dd>' in page
    assert '<dd id="telephone">06 12 34 56 78</dd>' in page


@pages
def test_the_send_error_does_not_double_the_punctuation(client, cast):
    draft = f.draft(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    response = client.post(action(draft, "send"), {"version": draft.version, "expected_reste_a_payer_cents": 12_000})
    page = text(response)
    assert response.status_code == 400
    assert (
        "J'accepte de prendre en charge le reste à payer de 120,00\u00a0€ : Cochez la case pour accepter le financement de votre formation." in page
    )
    assert "€. :" not in page


@pages
def test_one_name_for_the_dif_action(client, titulaire, settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=30)
    client.force_login(titulaire)
    rights = text(client.get(reverse("financing:rights")))
    assert ">Saisir mon solde DIF</a>" in rights and "Saisir mes heures DIF" not in rights
    dif = text(client.get(reverse("financing:dif")))
    assert "<h1>Saisir mon solde DIF</h1>" in dif and "<title>Saisir mon solde DIF" in dif


@pages
def test_unread_notifications_keep_their_spaces(client, titulaire):
    notices.notify(user=titulaire, title="Dossier n° 3168813688 : proposition reçue")
    client.force_login(titulaire)
    page = text(client.get(reverse("notifications:list")))
    # The card's detail line is a flex box: its text sits in one span so that « · » keeps its spaces.
    assert re.search(r'<p class="fr-card__detail"><span>\d\d/\d\d/\d{4} à \d\d:\d\d · <strong>Non lue</strong></span></p>', page)


@pages
def test_the_dossier_tables_carry_their_column_names_for_small_screens(client, cast):
    f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    page = text(client.get(reverse("dossiers:list")))
    assert 'class="fr-table cpf-stack"' in page and "<thead>" in page
    for label in ("Dossier", "Formation", "État", "Prochaine étape", "Échéance"):
        assert f'<td data-label="{label}">' in page, label
    client.force_login(cast["staff"])
    page = text(client.get(reverse("dossiers:organisme-inbox")))
    for label in ("Dossier", "Titulaire", "Formation", "Session", "État", "Échéance"):
        assert f'<td data-label="{label}">' in page, label


@pages
def test_card_fields_autofill_and_size(cast):
    from financing.forms import CardForm

    form = CardForm()
    expected = {"number": "cc-number", "holder": "cc-name", "expiry": "cc-exp", "cvc": "cc-csc"}
    for name, autocomplete in expected.items():
        attrs = form.fields[name].widget.attrs
        assert attrs["autocomplete"] == autocomplete and "fr-input cpf-input--" in attrs["class"]
        assert attrs.get("inputmode") == ("numeric" if name != "holder" else None)
    html = str(form["expiry"])
    assert 'autocomplete="cc-exp"' in html and 'inputmode="numeric"' in html and 'maxlength="7"' in html


# --- Confirmation pages ---------------------------------------------------------------------------


@pages
def test_delete_is_confirmed_on_its_own_page(client, cast):
    draft = f.draft(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    detail = text(client.get(reverse("dossiers:detail", args=[draft.numero])))
    assert f'href="{action(draft, "delete")}">Supprimer mon dossier</a>' in detail  # a link, no form
    page = text(client.get(action(draft, "delete")))
    assert "<h1>Supprimer mon dossier ?</h1>" in page and "Ce qui va se passer" in page
    assert "vos droits formation ne sont pas touchés" in page and ">Garder mon dossier</a>" in page
    assert f'<form method="post" action="{action(draft, "delete")}"' in page and "csrfmiddlewaretoken" in page
    assert Dossier.objects.get(pk=draft.pk).status == Status.DRAFT  # nothing happens on GET
    response = client.post(action(draft, "delete"), {"version": draft.version}, follow=True)
    assert Dossier.objects.get(pk=draft.pk).status == Status.DELETED and "Votre dossier est supprimé." in text(response)


@pages
def test_cancelling_a_request_is_confirmed(client, cast):
    sent = f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    page = text(client.get(action(sent, "cancel_request")))
    assert "<h1>Annuler ma demande d'inscription ?</h1>" in page and "CP-FORMATION en est prévenu" in page
    client.post(action(sent, "cancel_request"), {"version": sent.version})
    assert Dossier.objects.get(pk=sent.pk).status == Status.CANCELLED_BY_TITULAIRE
    # Once done, the page is no longer offered: back to the dossier, with why.
    response = client.get(action(sent, "cancel_request"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dossiers:detail", args=[sent.numero])
    assert "Cette action n'est plus possible" in text(response)


@pages
def test_cancelling_a_training_is_confirmed_with_what_it_costs(client, cast):
    accepted = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    client.force_login(cast["titulaire"])
    detail = text(client.get(reverse("dossiers:detail", args=[accepted.numero])))
    # The success of the acceptance is not followed by an unfolded cancellation form.
    assert "Motif de l'annulation" not in detail and f'href="{action(accepted, "cancel")}">Annuler ma formation</a>' in detail
    page = text(client.get(action(accepted, "cancel")))
    assert "<h1>Annuler ma formation ?</h1>" in page
    assert (
        "l'annulation est sans frais : les 750,00\u00a0€ de droits bloqués vous sont rendus et les 120,00\u00a0€ payés par carte vous sont remboursés."
        in page
    )
    assert "Motif de l'annulation" in page and "force majeure" in page and ">Garder ma formation</a>" in page
    client.post(action(accepted, "cancel"), {"version": accepted.version, "reason": "Changement de projet"})
    assert Dossier.objects.get(pk=accepted.pk).status == Status.CANCELLED_BY_TITULAIRE
    assert money.balances(money.account_for(cast["titulaire"]))["available"] == 75_000


@pages
def test_a_late_cancellation_says_the_rights_are_lost(client, cast, time_machine):
    accepted = f.accepted(cast["titulaire"], cast["session"], cast["staff"])
    time_machine.move_to(f.after_start(accepted, days=-2))  # rétractation over, 2 days before the start
    client.force_login(cast["titulaire"])
    page = text(client.get(action(accepted, "cancel")))
    assert "sauf cas de force majeure, les 750,00\u00a0€ de droits bloqués sont perdus" in page


@pages
def test_confirmation_pages_are_the_owners_only(client, cast, other_titulaire, organisme_user):
    draft = f.draft(cast["titulaire"], cast["session"])
    client.force_login(other_titulaire)
    assert client.get(action(draft, "delete")).status_code == 404
    assert client.post(action(draft, "delete"), {"version": draft.version}).status_code == 404
    client.force_login(organisme_user)
    assert client.get(action(draft, "delete")).status_code == 403
    client.force_login(cast["titulaire"])
    assert client.get(action(draft, "send")).status_code == 404  # no confirmation page for the others
    assert client.get(action(draft, "nimporte")).status_code == 404
    assert Dossier.objects.get(pk=draft.pk).status == Status.DRAFT


@pages
def test_confirming_needs_the_csrf_token(cast):
    draft = f.draft(cast["titulaire"], cast["session"])
    browser = PlainClient(enforce_csrf_checks=True)
    browser.force_login(cast["titulaire"])
    assert browser.get(action(draft, "delete")).status_code == 200
    assert browser.post(action(draft, "delete"), {"version": draft.version}).status_code == 403
    assert Dossier.objects.get(pk=draft.pk).status == Status.DRAFT


def test_each_confirmation_names_its_buttons():
    assert set(CONFIRMATIONS) == {"delete", "cancel_request", "cancel"}
    for confirmation in CONFIRMATIONS.values():
        assert confirmation.question and confirmation.confirm and confirmation.back
        assert not DOUBLED.search(confirmation.question)


def test_every_history_row_has_its_name_for_each_audience():
    from dossiers.models import DossierEvent
    from dossiers.workflow import TRANSITIONS

    for name in [*TRANSITIONS, "create", "control_open"]:
        for audience in (display.TITULAIRE, display.ORGANISME):
            assert name in display.EVENT_LABELS[audience], (name, audience)
    proposal = DossierEvent(transition="propose", from_status=Status.SENT, to_status=Status.PROPOSED, actor_role="organisme")
    assert proposal.titulaire_line == "Proposition envoyée par l'organisme"
    assert proposal.organisme_line == "Demande validée, proposition envoyée par vous"
    validated = DossierEvent(transition="validate_service", from_status=Status.SERVICE_DONE, to_status=Status.DEBITED, actor_role="system")
    assert not any(word in validated.titulaire_line.lower() for word in JARGON)
