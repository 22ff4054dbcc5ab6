from celery import shared_task

from . import services


@shared_task(name="financing.tasks.dif_reminders")
def dif_reminders() -> int:
    """Daily: J-30, J-7, J-1 reminders before the DIF deadline (each sent once)."""
    return services.dif_send_reminders()


@shared_task(name="financing.tasks.process_refunds")
def process_refunds() -> int:
    """Hourly: the card refunds owed to titulaires, made well within their 30 days."""
    from .payments import refunds_process

    return refunds_process()
