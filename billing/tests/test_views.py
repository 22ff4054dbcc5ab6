"""« Facturation » in the Espace organisme and the operators' admin: what a person sees and
does, the messages next to the fields, isolation between organismes, fixed query counts."""

import csv
import io
import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from pypdf import PdfReader

from billing import services
from billing.models import BankAccount, Invoice, PaymentBatch
from cpf_portal.testing import text
from dossiers.states import BillingState
from dossiers.tests import factories as f

from .conftest import RIB, finished

pytestmark = pytest.mark.django_db


def issue(organisme, organisme_user, *prices):
    dossiers = [finished(organisme_user, f.session_for(organisme, price_cents=price)) for price in prices]
    return services.invoice_issue(organisme=organisme, dossier_ids=[d.pk for d in dossiers], by=organisme_user)


def test_the_organisme_bills_the_dossiers_it_ticks(client, organisme, organisme_user, bank):
    first, second, later = (finished(organisme_user, f.session_for(organisme, price_cents=p)) for p in (87_000, 50_000, 30_000))
    client.force_login(organisme_user)
    page = text(client.get(reverse("billing:to-bill")))
    assert "Dossiers à facturer (3)" in page and f"Facturer le dossier n° {first.numero}" in page and "870,00" in page
    response = client.post(reverse("billing:to-bill"), {"dossiers": [first.pk, second.pk]}, follow=True)
    invoice = Invoice.objects.get()
    assert response.redirect_chain[-1][0] == reverse("billing:invoice", args=[invoice.number])
    page = text(response)
    assert "La facture n° 000001 est émise" in page and "1\u202f370,00" in page and "Émettre un avoir" in page
    assert "Dossiers à facturer (1)" in text(client.get(reverse("billing:to-bill")))
    later.refresh_from_db()
    assert later.billing_state == BillingState.TO_BILL


def test_billing_nothing_or_a_dossier_billed_meanwhile_is_told(client, organisme, organisme_user, bank):
    dossier = finished(organisme_user, f.session_for(organisme))
    client.force_login(organisme_user)
    response = client.post(reverse("billing:to-bill"), {})
    assert response.status_code == 400 and "Cochez au moins un dossier à facturer." in text(response)
    client.post(reverse("billing:to-bill"), {"dossiers": [dossier.pk]})
    response = client.post(reverse("billing:to-bill"), {"dossiers": [dossier.pk]})
    assert response.status_code == 400 and "n'est plus à facturer" in text(response)
    response = client.post(reverse("billing:to-bill"), {"dossiers": ["abc"]})
    assert response.status_code == 400 and "La sélection n'est pas valide." in text(response)
    assert Invoice.objects.count() == 1


def test_without_bank_details_the_page_says_so(client, organisme, organisme_user):
    finished(organisme_user, f.session_for(organisme))
    client.force_login(organisme_user)
    assert "Coordonnées bancaires manquantes" in text(client.get(reverse("billing:to-bill")))


def test_invoice_pdf_is_downloaded_by_its_organisme_and_an_operator_only(
    client, organisme, organisme_user, bank, other_organisme_user, operator, titulaire
):
    invoice = issue(organisme, organisme_user, 87_000, 87_000)
    client.force_login(organisme_user)
    response = client.get(reverse("billing:invoice-pdf", args=[invoice.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    content = PdfReader(io.BytesIO(response.getvalue())).pages[0].extract_text()
    assert "Facture n° 000001" in content and "1 740,00 €" in content
    client.force_login(other_organisme_user)
    for name in ("billing:invoice", "billing:invoice-pdf"):
        assert client.get(reverse(name, args=[invoice.number])).status_code == 404
    assert client.post(reverse("billing:invoice-credit", args=[invoice.number]), {"reason": "x"}).status_code == 404
    client.force_login(titulaire)
    assert client.get(reverse("billing:invoice", args=[invoice.number])).status_code == 403
    client.force_login(operator)
    response = client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf" and response.getvalue().startswith(b"%PDF")
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.ISSUED


def test_another_organisme_never_sees_the_invoices_or_the_bank_details(client, organisme, organisme_user, bank, other_organisme_user):
    issue(organisme, organisme_user, 87_000)
    client.force_login(other_organisme_user)
    assert "Aucune facture." in text(client.get(reverse("billing:invoices")))
    page = text(client.get(reverse("billing:bank")))
    assert "Compte actuel" not in page and "CP-FORMATION" not in page
    lines = list(
        csv.reader(io.StringIO(b"".join(client.get(reverse("billing:invoices-export")).streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    assert len(lines) == 1  # the header only


def test_a_credit_note_from_the_invoice_page(client, organisme, organisme_user, bank):
    invoice = issue(organisme, organisme_user, 87_000)
    client.force_login(organisme_user)
    response = client.post(reverse("billing:invoice-credit", args=[invoice.number]), {"reason": ""})
    assert response.status_code == 400 and "Indiquez le motif de l'avoir." in text(response)
    response = client.post(reverse("billing:invoice-credit", args=[invoice.number]), {"reason": "Erreur de session"}, follow=True)
    page = text(response)
    assert "L'avoir n° 000002 annule la facture n° 000001" in page and "Annule la facture" in page
    assert "Annulée par" in text(client.get(reverse("billing:invoice", args=[invoice.number])))


def test_suivi_des_reglements_filters_and_exports(client, organisme, organisme_user, bank, operator, django_assert_max_num_queries):
    paid = issue(organisme, organisme_user, 87_000)
    services.batch_execute(batch=services.batch_prepare(), by=operator)
    issue(organisme, organisme_user, 50_000)
    client.force_login(organisme_user)
    with django_assert_max_num_queries(10) as few:  # 8 + the team membership and the verified second factor
        page = text(client.get(reverse("billing:invoices")))
    assert "Factures et avoirs (2)" in page and "Payée" in page and "Émise" in page
    for _ in range(5):
        issue(organisme, organisme_user, 10_000)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Factures et avoirs (7)" in text(client.get(reverse("billing:invoices")))
    page = text(client.get(reverse("billing:invoices"), {"status": "paid"}))
    assert "Factures et avoirs (1)" in page and paid.payment_reference in page
    response = client.get(reverse("billing:invoices"), {"issued_from": "2026-12-10", "issued_to": "2026-12-01"})
    assert response.status_code == 400 and "Cette date doit suivre la première." in text(response)
    rows = list(
        csv.reader(
            io.StringIO(b"".join(client.get(reverse("billing:invoices-export"), {"status": "paid"}).streaming_content).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0][0] == "numero" and len(rows) == 2 and rows[1][0] == "000001" and rows[1][6] == "870,00" and rows[1][7] == "Payée"


def test_to_bill_page_runs_a_fixed_number_of_queries(client, organisme, organisme_user, bank, django_assert_max_num_queries):
    finished(organisme_user, f.session_for(organisme))
    client.force_login(organisme_user)
    with django_assert_max_num_queries(10) as few:  # 8 + the team membership and the verified second factor
        client.get(reverse("billing:to-bill"))
    for _ in range(4):
        finished(organisme_user, f.session_for(organisme))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Dossiers à facturer (5)" in text(client.get(reverse("billing:to-bill")))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("iban", "FR76 3000 4000 0100 0012 3456 788", "Cet IBAN n'est pas valide"),
        ("iban", "", "Indiquez l'IBAN."),
        ("bic", "DEUTDEFFXXX", "Ce BIC ne correspond pas au pays de l'IBAN."),
        ("holder", "", "Indiquez le titulaire du compte."),
    ],
)
def test_bank_details_errors_are_told_next_to_the_field(client, organisme_user, field, value, message):
    client.force_login(organisme_user)
    response = client.post(reverse("billing:bank"), {**RIB, field: value})
    assert response.status_code == 400 and message in text(response)
    assert not BankAccount.objects.exists()


def test_bank_details_are_saved_and_each_change_is_logged(client, organisme, organisme_user):
    client.force_login(organisme_user)
    client.post(reverse("billing:bank"), RIB)
    client.post(reverse("billing:bank"), {**RIB, "iban": "FR7640031000010000000000133", "bic": "CDCGFRPPXXX"})
    account = BankAccount.objects.get(organisme=organisme)
    assert (account.iban, account.bic, account.updated_by) == ("FR7640031000010000000000133", "CDCGFRPPXXX", organisme_user)
    entries = LogEntry.objects.get_for_object(account)
    assert entries.count() == 2 and entries.filter(actor=organisme_user).count() == 2
    page = text(client.get(reverse("billing:bank")))
    assert "Historique des modifications" in page
    # The fields changed by their French labels, without the technical ones.
    changed = re.search(r"modification \(([^)]*)\)", page).group(1)
    assert sorted(changed.split(", ")) == ["BIC", "IBAN"]
    created = re.search(r"création \(([^)]*)\)", page).group(1)
    assert sorted(created.split(", ")) == ["BIC", "IBAN", "titulaire du compte"]


def test_operator_prepares_and_executes_a_batch_from_the_admin(client, organisme, organisme_user, bank, operator):
    invoice = issue(organisme, organisme_user, 87_000)
    client.force_login(operator)
    changelist = reverse("admin:billing_invoice_changelist")
    assert "000001" in text(client.get(changelist))
    client.post(changelist, {"action": "prepare_batch", "_selected_action": [invoice.pk]})
    batch = PaymentBatch.objects.get()
    response = client.get(reverse("admin:billing_paymentbatch_pain001", args=[batch.pk]))
    assert response.status_code == 200 and b'<InstdAmt Ccy="EUR">870.00</InstdAmt>' in response.content
    executed = client.post(reverse("admin:billing_paymentbatch_changelist"), {"action": "execute", "_selected_action": [batch.pk]}, follow=True)
    assert "1 facture(s) payée(s) ; les organismes sont prévenus." in text(executed)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert "Payée" in text(client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])))
    # Executed again: a warning, nothing paid, nobody told twice.
    again = client.post(reverse("admin:billing_paymentbatch_changelist"), {"action": "execute", "_selected_action": [batch.pk]}, follow=True)
    shown = [(message.level_tag, message.message) for message in again.context["messages"]]
    assert shown == [("warning", "Ce lot est déjà exécuté : rien n'a été payé.")]
    client.force_login(organisme_user)
    invoice_page = client.get(reverse("billing:invoice", args=[invoice.number])).content.decode()
    current = re.search(r'fr-breadcrumb__link" aria-current="page">([^<]*)<', invoice_page).group(1)
    assert current == f"Facture n° {invoice.number}" and f"<h1>Facture n° {invoice.number}</h1>" in invoice_page
    client.force_login(operator)
    client.force_login(organisme_user)
    assert "Payée" in text(client.get(reverse("billing:invoice", args=[invoice.number])))
