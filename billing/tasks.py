from celery import shared_task

from . import services


@shared_task(name="billing.tasks.prepare_payment_batch")
def prepare_payment_batch() -> str:
    """Each working morning: the invoices due gathered in one payment batch (its pain.001
    waits in the admin for an operator to send it to the bank and mark it executed)."""
    batch = services.batch_prepare()
    return f"{batch.reference} ({batch.count} virements)" if batch else "aucune facture à payer"


@shared_task(name="billing.tasks.alert_overdue_invoices")
def alert_overdue_invoices() -> int:
    """Daily: operators told how many invoices are past their 30 days."""
    return services.alert_overdue()
