"""SEPA credit-transfer files (pain.001.001.03) for the payment batches, through sepaxml:
the payer (the Caisse des Dépôts' account, from settings) pays each invoice of the batch to
its organisme's account. ``export(validate=True)`` checks the file against the ISO 20022
schema before it is kept."""

from __future__ import annotations

import datetime

import holidays
from django.conf import settings
from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.03"


def next_business_day(day: datetime.date) -> datetime.date:
    """The next TARGET2 business day after ``day`` (no weekend, no TARGET closing day)."""
    closed = holidays.financial_holidays("ECB", years=[day.year, day.year + 1])
    day += datetime.timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day += datetime.timedelta(days=1)
    return day


def credit_transfer(reference: str, invoices, execution_date: datetime.date) -> str:
    """The pain.001 XML of one batch: one transfer per invoice, its amount TTC, its number in
    the remittance information and as end-to-end id."""
    payer = settings.BILLING_PAYER
    transfer = SepaTransfer(
        {"name": payer["name"], "IBAN": payer["iban"], "BIC": payer["bic"], "batch": True, "currency": "EUR"},
        schema=SCHEMA,
        clean=True,
    )
    for invoice in invoices:
        account = invoice.organisme.bank_account
        transfer.add_payment(
            {
                "name": account.holder,
                "IBAN": account.iban,
                "BIC": account.bic,
                "amount": invoice.total_ttc_cents,
                "execution_date": execution_date,
                "description": f"CPF facture {invoice.number} SIRET {invoice.organisme.siret} lot {reference}",
                "endtoend_id": f"CPF{invoice.organisme.siret}{invoice.number}"[:35],
            }
        )
    return transfer.export(validate=True, pretty_print=True).decode()
