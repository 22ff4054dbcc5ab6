import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import TitulaireFactory
from cpf_portal.testing import text
from financing import services
from financing.models import DifAttestation, DifDeclaration, Movement
from financing.tests.factories import JPEG_BYTES, PDF_BYTES, PNG_BYTES, attestation, pdf
from notifications.models import Notification

pytestmark = pytest.mark.django_db
URL = reverse("financing:dif")


@pytest.fixture(autouse=True)
def dif_open_until_next_month(settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=40)


@pytest.fixture
def account(titulaire):
    return services.account_for(titulaire)


# --- Rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hours, rounded", [("120", 120), ("119.5", 120), ("10.2", 11), ("0.25", 1), ("50", 50)])
def test_decimal_hours_are_rounded_up(hours, rounded):
    assert services.dif_rounded_hours(Decimal(hours)) == rounded


def test_fifteen_euros_an_hour():
    assert services.dif_euros_cents(120) == 180_000
    assert services.dif_euros_cents(50) == 75_000


def test_employer_situations():
    early, late = datetime.date(2014, 3, 31), datetime.date(2014, 12, 31)
    two = [attestation(60, issued_on=late), attestation(40, issued_on=early)]
    assert services.dif_hours(DifDeclaration.Situation.UN_EMPLOYEUR, [attestation(80)]) == 80
    assert services.dif_hours(DifDeclaration.Situation.SUCCESSIFS, two) == 60  # only the last one counts
    assert services.dif_hours(DifDeclaration.Situation.SIMULTANES, two) == 100  # hours add up


def test_declaring_credits_at_once(account):
    declaration = services.dif_declare(account=account, situation="un", attestations=[attestation("119.5")])
    assert declaration.hours == 120 and declaration.amount_cents == 180_000
    assert declaration.status == DifDeclaration.Status.EN_CONTROLE
    assert services.balances(account)["available"] == 180_000
    assert Movement.objects.get(kind="dif").dif_declaration == declaration
    with DifAttestation.objects.get().file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF")


def test_more_than_120_hours_is_refused(account):
    with pytest.raises(services.FinancingError, match="entre 1 et 120"):
        services.dif_declare(account=account, situation="simultanes", attestations=[attestation(80), attestation(41)])
    assert not Movement.objects.exists() and not DifAttestation.objects.exists()


def test_one_declaration_only(account):
    services.dif_declare(account=account, situation="un", attestations=[attestation(10)])
    with pytest.raises(services.FinancingError, match="déjà saisi"):
        services.dif_declare(account=account, situation="un", attestations=[attestation(10)])


def test_deadline_on_both_sides(account, settings):
    deadline = datetime.date(2020, 12, 31)
    settings.CPF_DIF_DEADLINE = deadline
    assert services.dif_is_open(deadline)
    assert not services.dif_is_open(deadline + datetime.timedelta(days=1))
    with time_machine.travel(datetime.datetime(2020, 12, 31, 22, 0, tzinfo=datetime.UTC), tick=False):
        # 23:00 in Paris on the 31st: still open.
        services.dif_declare(account=account, situation="un", attestations=[attestation(10)])
    other = services.account_for(TitulaireFactory())
    with (
        time_machine.travel(datetime.datetime(2020, 12, 31, 23, 30, tzinfo=datetime.UTC), tick=False),
        pytest.raises(services.FinancingError, match="non saisies avant le 31/12/2020 sont perdues"),
    ):
        services.dif_declare(account=other, situation="un", attestations=[attestation(10)])


# --- The form -------------------------------------------------------------------------------


def form_data(*attestations, situation="un"):
    data = {
        "situation": situation,
        "attestation-TOTAL_FORMS": "3",
        "attestation-INITIAL_FORMS": "0",
        "attestation-MIN_NUM_FORMS": "0",
        "attestation-MAX_NUM_FORMS": "3",
    }
    for index, (hours, issued_on, upload) in enumerate(attestations):
        data.update(
            {
                f"attestation-{index}-employer": f"Employeur {index}",
                f"attestation-{index}-hours": hours,
                f"attestation-{index}-issued_on": issued_on,
                f"attestation-{index}-file": upload,
            }
        )
    return data


def test_form_enters_120_hours(client, titulaire):
    client.force_login(titulaire)
    page = text(client.get(URL))
    assert "Saisir mon solde DIF" in page and "Mon solde DIF en heures" in page and "Enregistrer" in page
    response = client.post(URL, form_data(("120", "2014-12-31", pdf())), follow=True)
    assert "120 h de DIF enregistrées : 1\u202f800,00\u00a0€ ajoutés à vos droits formation." in text(response)
    assert services.balances(services.account_for(titulaire))["available"] == 180_000


@pytest.mark.parametrize(
    "content, name",
    [(PDF_BYTES, "bulletin.pdf"), (PNG_BYTES, "scan.png"), (JPEG_BYTES, "photo.jpg"), (PDF_BYTES, "sans-extension")],
)
def test_accepted_files_are_recognised_by_their_content(client, titulaire, content, name):
    client.force_login(titulaire)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    assert client.post(URL, form_data(("10", "2014-12-31", upload))).status_code == 302
    assert DifAttestation.objects.get().content_type in {"application/pdf", "image/png", "image/jpeg"}


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("faux.pdf", b"Ceci n'est pas un PDF", content_type="application/pdf"), "ni un PDF, ni une image"),
        (SimpleUploadedFile("script.png", b"#!/bin/sh\necho oups\n", content_type="image/png"), "ni un PDF, ni une image"),
        (SimpleUploadedFile("gros.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024), content_type="application/pdf"), "dépasse 5 Mo"),
    ],
)
def test_refused_files(client, titulaire, upload, message):
    client.force_login(titulaire)
    response = client.post(URL, form_data(("10", "2014-12-31", upload)))
    assert response.status_code == 400
    assert message in text(response)
    assert not Movement.objects.exists() and not DifAttestation.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (form_data(("10", "2014-12-31", None)) | {"situation": ""}, "Indiquez votre situation."),
        (form_data(), "Joignez au moins une attestation."),
        (form_data(("10", "2014-12-31", None), ("20", "2014-06-30", None), situation="un"), "une seule attestation"),
        (form_data(("10", "2014-12-31", None), situation="successifs"), "l'attestation de chacun"),
        (form_data(("130", "2014-12-31", None)), "ne dépasse pas 120 heures"),
        (form_data(("-2", "2014-12-31", None)), "doit être positif"),
        (form_data(("dix", "2014-12-31", None)), "Saisissez un nombre"),
        (form_data(("10", "2099-01-01", None)), "dans le futur"),
        (form_data(("70", "2014-12-31", None), ("60", "2014-06-30", None), situation="simultanes"), "entre 1 et 120"),
    ],
)
def test_bad_input_is_told_and_nothing_saved(client, titulaire, data, message):
    client.force_login(titulaire)
    for key, value in list(data.items()):
        if key.endswith("-file") and value is None:
            data[key] = pdf()
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Movement.objects.exists() and not DifDeclaration.objects.exists()


def test_form_is_closed_after_the_deadline(client, titulaire, settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() - datetime.timedelta(days=1)
    client.force_login(titulaire)
    response = client.get(URL, follow=True)
    expected = f"Vos heures DIF non saisies avant le {settings.CPF_DIF_DEADLINE:%d/%m/%Y} sont perdues."
    assert expected in text(response)
    assert response.redirect_chain[-1][0] == reverse("financing:rights")
    assert client.post(URL, form_data(("10", "2014-12-31", pdf()))).status_code == 302
    assert not Movement.objects.exists()


# --- Private files and control --------------------------------------------------------------


def test_attestation_is_served_to_its_owner_only(client, titulaire, other_titulaire, operator):
    account = services.account_for(titulaire)
    services.dif_declare(account=account, situation="un", attestations=[attestation(10)])
    item = DifAttestation.objects.get()
    url = reverse("financing:attestation", args=[item.public_id])
    assert not item.file.name.startswith("attestation")  # stored under a random name
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(other_titulaire)
    assert client.get(url).status_code == 404
    client.force_login(titulaire)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="attestation-dif-{item.public_id}.pdf"'
    assert response["Cache-Control"] == "private, no-store" and response["X-Content-Type-Options"] == "nosniff"
    assert response.getvalue() == PDF_BYTES
    client.force_login(operator)
    response = client.get(reverse("admin:financing_difattestation_file", args=[item.public_id]))
    assert response.status_code == 200 and response.getvalue() == PDF_BYTES


def test_missing_or_erased_attestation_file_is_404(client, titulaire, operator):
    services.dif_declare(account=services.account_for(titulaire), situation="un", attestations=[attestation(10)])
    item = DifAttestation.objects.get()
    item.file.storage.delete(item.file.name)
    client.force_login(titulaire)
    assert client.get(reverse("financing:attestation", args=[item.public_id])).status_code == 404
    DifAttestation.objects.filter(pk=item.pk).update(file="")  # as after the account's deletion
    client.force_login(operator)
    assert client.get(reverse("admin:financing_difattestation_file", args=[item.public_id])).status_code == 404


def test_admin_rejection_reverses_the_credit_and_tells_the_titulaire(
    client, titulaire, operator, django_capture_on_commit_callbacks, send_queued_emails
):
    account = services.account_for(titulaire)
    declaration = services.dif_declare(account=account, situation="un", attestations=[attestation(50)])
    client.force_login(operator)
    url = reverse("admin:financing_difdeclaration_review", args=[declaration.pk])
    refused = client.post(url, {"decision": "refuser", "reason": ""})
    assert "Indiquez le motif du refus" in text(refused)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "refuser", "reason": "Attestation illisible"})
    send_queued_emails()
    declaration.refresh_from_db()
    assert declaration.status == DifDeclaration.Status.REFUSEE and declaration.reviewed_by == operator
    assert services.balances(account)["available"] == 0
    assert list(Movement.objects.filter(dif_declaration=declaration).values_list("amount_cents", flat=True).order_by("id")) == [75_000, -75_000]
    assert "Attestation illisible" in mail.outbox[-1].body and mail.outbox[-1].to == [titulaire.email]
    assert Notification.objects.get(user=titulaire).title == "Votre attestation DIF a été refusée"
    # A refused entry can be made again.
    services.dif_declare(account=account, situation="un", attestations=[attestation(40)])


def test_admin_acceptance(client, titulaire, operator):
    declaration = services.dif_declare(account=services.account_for(titulaire), situation="un", attestations=[attestation(50)])
    client.force_login(operator)
    client.post(reverse("admin:financing_difdeclaration_review", args=[declaration.pk]), {"decision": "accepter"})
    declaration.refresh_from_db()
    assert declaration.status == DifDeclaration.Status.ACCEPTEE
    assert services.balances(declaration.account)["available"] == 75_000


# --- Reminders ------------------------------------------------------------------------------


def test_reminders_at_j30_j7_j1_each_sent_once(settings, titulaire, django_capture_on_commit_callbacks, send_queued_emails):
    declared = TitulaireFactory()
    services.dif_declare(account=services.account_for(declared), situation="un", attestations=[attestation(10)])
    deadline = datetime.date(2030, 6, 30)
    settings.CPF_DIF_DEADLINE = deadline

    def run(day):
        with django_capture_on_commit_callbacks(execute=True):
            count = services.dif_send_reminders(day)
        send_queued_emails()
        return count

    assert run(deadline - datetime.timedelta(days=31)) == 0
    assert run(deadline - datetime.timedelta(days=30)) == 1
    assert run(deadline - datetime.timedelta(days=30)) == 0  # the job ran twice
    assert run(deadline - datetime.timedelta(days=20)) == 0
    assert run(deadline - datetime.timedelta(days=6)) == 1  # J-7 sent late, still once
    assert run(deadline - datetime.timedelta(days=1)) == 1
    assert run(deadline - datetime.timedelta(days=1)) == 0
    assert run(deadline + datetime.timedelta(days=1)) == 0
    recipients = {message.to[0] for message in mail.outbox}
    assert recipients == {titulaire.email}
    assert [re.search(r"Plus que (\d+) jour", m.subject).group(1) for m in mail.outbox] == ["30", "6", "1"]
