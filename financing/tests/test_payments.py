import uuid

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from cpf_portal.testing import text
from financing import payments
from financing.forms import CardForm
from financing.models import Payment

pytestmark = pytest.mark.django_db

GOOD = payments.Card(number="4242424242424242", expiry_month=12, expiry_year=2099, cvc="987")


def pay(user, card=GOOD, key=None, reference="dossier:1234567890"):
    return payments.payment_pay(
        user=user, amount_cents=12_000, purpose="Reste à payer", reference=reference, card=card, idempotency_key=key or uuid.uuid4()
    )


def test_successful_payment_keeps_only_the_last_four_digits(titulaire):
    payment = pay(titulaire)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.card_last4 == "4242" and payment.card_brand == "Visa"
    assert payment.receipt_number.startswith("REC-") and payment.paid_at
    # Neither the number nor the CVC is kept: no column holds them (the CVC is compared whole:
    # « 987 » may well appear inside a timestamp or an identifier).
    stored = [str(value) for value in model_to_dict(Payment.objects.get()).values()]
    assert not any("4242424242424242" in value for value in stored) and "987" not in stored


@pytest.mark.parametrize("number, reason", [("4000000000000002", "refusé par votre banque"), ("4000000000009995", "provision insuffisante")])
def test_declined_cards(titulaire, number, reason):
    payment = pay(titulaire, card=payments.Card(number=number, expiry_month=12, expiry_year=2099, cvc="123"))
    assert payment.status == Payment.Status.FAILED and reason in payment.failure_reason
    # A declined payment can be retried with another card.
    assert pay(titulaire).status == Payment.Status.SUCCEEDED


def test_double_submit_charges_once(titulaire, monkeypatch):
    charges = []
    original = payments.TestCardProvider.charge

    def counting(self, **kwargs):
        charges.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(payments.TestCardProvider, "charge", counting)
    key = uuid.uuid4()
    first, second = pay(titulaire, key=key), pay(titulaire, key=key)
    assert first == second and len(charges) == 1 and Payment.objects.count() == 1


def test_a_paid_reference_cannot_be_paid_again(titulaire):
    pay(titulaire)
    with pytest.raises(payments.PaymentRefused, match="déjà payé"):
        pay(titulaire)
    assert Payment.objects.filter(status="succeeded").count() == 1


@pytest.mark.parametrize(
    "card, field",
    [
        (payments.Card(number="4242424242424241", expiry_month=12, expiry_year=2099, cvc="123"), "number"),
        (payments.Card(number="4242424242424242", expiry_month=1, expiry_year=2020, cvc="123"), "expiry"),
        (payments.Card(number="4242424242424242", expiry_month=13, expiry_year=2099, cvc="123"), "expiry"),
        (payments.Card(number="4242424242424242", expiry_month=12, expiry_year=2099, cvc="12"), "cvc"),
    ],
)
def test_card_checks(titulaire, card, field):
    import datetime

    assert field in payments.card_problems(card, datetime.date(2026, 11, 22))
    with pytest.raises(payments.PaymentRefused):
        pay(titulaire, card=card)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"number": "4242 4242 4242 4241"}, "number", "n'est pas valide"),
        ({"expiry": "13/30"}, "expiry", "entre 01 et 12"),
        ({"expiry": "12-2030"}, "expiry", "MM/AA"),
        ({"expiry": "01/20"}, "expiry", "expirée"),
        ({"cvc": "1a3"}, "cvc", "3 chiffres"),
    ],
)
def test_card_form_messages(data, field, message):
    form = CardForm(
        {"number": "4242 4242 4242 4242", "holder": "Camille Durand", "expiry": "12/30", "cvc": "123", "idempotency_key": str(uuid.uuid4()), **data}
    )
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field])


def test_receipt_page_is_for_the_payer_only(client, titulaire, other_titulaire):
    payment = pay(titulaire)
    url = reverse("financing:receipt", args=[payment.public_id])
    client.force_login(other_titulaire)
    assert client.get(url).status_code == 404
    client.force_login(titulaire)
    html = text(client.get(url))
    assert payment.receipt_number in html and "120,00" in html and "se terminant par 4242" in html
