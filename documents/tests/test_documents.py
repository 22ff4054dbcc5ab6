"""« Mes documents »: each PDF holds the figures it speaks of, only its owner downloads it, the
certificate exists only once the service fait is validated, the list runs a fixed number of queries."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cpf_portal.testing import text
from documents import pdf, services, tasks
from documents.models import Document
from dossiers import services as dossier_services
from dossiers.states import Status
from dossiers.tests import factories as f
from financing import services as ledger
from mes_donnees import services as mes_donnees

pytestmark = pytest.mark.django_db
LIST = reverse("documents:list")


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    return flat(PdfReader(io.BytesIO(response.getvalue())))


def flat(reader: PdfReader) -> str:
    """The PDF's text, its table cells and wrapped lines joined by single spaces."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def fetch(client, url):
    """GET a download and read it (a streamed file left unread stays open)."""
    response = client.get(url)
    if response.status_code == 200:
        response.getvalue()
    return response


@pytest.fixture
def paid(titulaire_with_rights, session, organisme_user):
    """Camille's accepted dossier: 870 € less 750 € of rights, 120 € paid by card."""
    return f.accepted(titulaire_with_rights, session, organisme_user)


def test_the_receipt_pdf_holds_the_payment_and_the_split_and_is_made_once(client, paid, titulaire_with_rights):
    payment = paid.payment
    participation = ledger.participation_on(timezone.localdate())
    client.force_login(titulaire_with_rights)
    response = client.get(reverse("documents:receipt", args=[payment.public_id]))
    content = pdf_text(response)
    assert f'filename="recu-de-paiement-{payment.receipt_number}.pdf"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    assert f"Reçu de paiement n° {payment.receipt_number}" in content
    assert "Camille Durand" in content and f"Dossier n° {paid.numero}" in content
    assert "120,00 €" in content and "870,00 €" in content and "-750,00 €" in content
    assert f"dont participation forfaitaire obligatoire {pdf.money(participation)}" in content
    fetch(client, reverse("documents:receipt", args=[payment.public_id]))
    assert Document.objects.filter(kind=Document.Kind.RECEIPT).count() == 1  # idempotent
    page = text(client.get(LIST))
    assert f"Reçu n° {payment.receipt_number}" in page and "120,00\u00a0€" in page


def test_the_rights_attestation_holds_the_balances_and_the_history_at_its_date(client, paid, titulaire_with_rights):
    client.force_login(titulaire_with_rights)
    response = client.post(reverse("documents:rights-attestation"), follow=True)
    today = timezone.localdate()
    assert f"Votre attestation de droits au {today:%d/%m/%Y} est prête" in text(response)
    document = Document.objects.get(kind=Document.Kind.RIGHTS)
    assert document.owner == titulaire_with_rights and document.as_of == today
    download = client.get(reverse("documents:download", args=[document.public_id]))
    content = pdf_text(download)
    assert f'filename="attestation-de-droits-au-{today:%d-%m-%Y}.pdf"' in download["Content-Disposition"]
    assert f"Attestation de droits au {today:%d/%m/%Y}" in content
    # 750 € acquired, all of it blocked by the accepted dossier: 0 € available.
    assert "Droits acquis 750,00 €" in content
    assert "Droits bloqués (formations acceptées) 750,00 €" in content
    assert "Droits disponibles 0,00 €" in content
    assert "Alimentation du compte 2023" in content and "750,00 € bloqués" in content


def test_an_attestation_at_a_past_date_leaves_out_the_later_movements(titulaire):
    account = ledger.account_for(titulaire)
    ledger._append(account, "alimentation", 50_000, "Alimentation du compte 2022", year=2022)
    later = ledger._append(account, "alimentation", 30_000, "Alimentation du compte 2023", year=2023)
    type(later).objects.filter(pk=later.pk).update(created_at=timezone.now() + datetime.timedelta(days=3))
    document = services.rights_attestation_create(user=titulaire, on_date=timezone.localdate())
    with document.file.open("rb") as handle:
        content = flat(PdfReader(io.BytesIO(handle.read())))
    assert "Droits disponibles 500,00 €" in content and "2023" not in content.split("Historique")[1]


def test_the_certificate_exists_only_once_the_service_fait_is_validated(client, titulaire_with_rights, session, organisme_user):
    done = f.dossier_in(Status.SERVICE_DONE, titulaire=titulaire_with_rights, session=session, organisme_user=organisme_user)
    client.force_login(titulaire_with_rights)
    assert client.get(reverse("documents:certificate", args=[done.numero])).status_code == 404
    assert "Certificat de réalisation —" not in text(client.get(LIST))
    with pytest.raises(services.DocumentError):
        services.certificate_for(dossier=done)
    debited = f._fire(done, "validate_service", "system", None, now=done.deadline_at)
    assert debited.status == Status.DEBITED
    response = client.get(reverse("documents:certificate", args=[debited.numero]))
    content = pdf_text(response)
    assert f'filename="certificat-de-realisation-dossier-{debited.numero}.pdf"' in response["Content-Disposition"]
    assert "Certificat de réalisation" in content and "Camille Durand" in content
    assert debited.formation.intitule in content
    assert "CP-FORMATION" in content
    assert f"Début de la formation {debited.effective_start_date:%d/%m/%Y}" in content
    assert f"Fin de la formation {debited.exit_date:%d/%m/%Y}" in content
    assert "Heures réalisées 10 h" in content and "Taux de réalisation 100 %" in content
    assert f"Certificat de réalisation — {debited.formation.intitule}" in text(client.get(LIST))
    fetch(client, reverse("documents:certificate", args=[debited.numero]))
    assert Document.objects.filter(kind=Document.Kind.CERTIFICATE, dossier=debited).count() == 1


def test_hours_done_follow_the_completion_rate():
    dossier = type("D", (), {"effective_duree_heures": 35, "completion_rate": 70})()
    assert services.hours_done(dossier) == "24,5 h"


def test_only_the_owner_downloads(client, paid, titulaire_with_rights, other_titulaire, organisme_user):
    attestation = services.rights_attestation_create(user=titulaire_with_rights)
    urls = [
        reverse("documents:receipt", args=[paid.payment.public_id]),
        reverse("documents:download", args=[attestation.public_id]),
    ]
    client.force_login(other_titulaire)
    for url in urls:
        assert client.get(url).status_code == 404
    assert "Reçu n°" not in text(client.get(LIST))
    client.force_login(organisme_user)
    for url in [*urls, LIST]:
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(LIST).status_code == 302
    client.force_login(titulaire_with_rights)
    for url in urls:
        assert fetch(client, url).status_code == 200


def test_another_titulaire_gets_404_for_a_certificate(client, titulaire_with_rights, other_titulaire, session, organisme_user):
    debited = f.dossier_in(Status.DEBITED, titulaire=titulaire_with_rights, session=session, organisme_user=organisme_user)
    client.force_login(other_titulaire)
    assert client.get(reverse("documents:certificate", args=[debited.numero])).status_code == 404
    assert not Document.objects.exists()


def test_the_list_runs_a_fixed_number_of_queries(client, paid, titulaire_with_rights, django_assert_max_num_queries):
    client.force_login(titulaire_with_rights)
    services.rights_attestation_create(user=titulaire_with_rights)
    with django_assert_max_num_queries(20) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(5):
        services.rights_attestation_create(user=titulaire_with_rights)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert text(response).count("Attestation de droits au ") == 6


def test_mes_donnees_exports_and_erases_the_documents(paid, titulaire_with_rights):
    receipt = services.receipt_for(payment=paid.payment)
    storage, name = receipt.file.storage, receipt.file.name
    assert storage.exists(name)
    exported = mes_donnees.export_data(titulaire_with_rights)["documents"]
    assert [row["type"] for row in exported] == ["recu"]
    services.documents_erase(titulaire_with_rights)
    assert not Document.objects.exists() and not storage.exists(name)


def test_the_documents_are_queued_on_the_events_and_the_task_renders_them(monkeypatch, titulaire_with_rights, session, organisme_user):
    queued = []
    monkeypatch.setattr("documents.signals.enqueue_on_commit", lambda task, *args: queued.append((task.name, *args)))
    done = f.dossier_in(Status.SERVICE_DONE, titulaire=titulaire_with_rights, session=session, organisme_user=organisme_user)
    assert queued == [("documents.tasks.documents_for_dossiers", [done.pk])]  # at acceptance: the receipt
    dossier_services.validate_due_services(now=done.deadline_at)  # the deadline job, set-based
    assert queued[-1] == ("documents.tasks.documents_for_dossiers", [done.pk])
    assert tasks.documents_for_dossiers([done.pk]) == 2
    assert tasks.documents_for_dossiers([done.pk]) == 2  # idempotent
    assert sorted(Document.objects.values_list("kind", flat=True)) == ["certificat", "recu"]


def test_deleting_the_account_erases_its_documents(titulaire_with_rights, session, organisme_user):
    debited = f.dossier_in(Status.DEBITED, titulaire=titulaire_with_rights, session=session, organisme_user=organisme_user)
    services.documents_for_dossiers([debited.pk])
    services.rights_attestation_create(user=titulaire_with_rights)
    files = [(document.file.storage, document.file.name) for document in Document.objects.all()]
    assert len(files) == 3
    mes_donnees.delete_account(titulaire_with_rights)
    assert not Document.objects.exists()
    assert not any(storage.exists(name) for storage, name in files)
