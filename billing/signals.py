"""Billing's events for other apps (the webhooks' outbox): sent in the writing transaction."""

from django.dispatch import Signal

# invoices=[Invoice, …]: paid by an executed payment batch.
invoices_paid = Signal()
