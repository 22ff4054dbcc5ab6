from celery import shared_task

from . import services


@shared_task(name="financing.tasks.dif_reminders")
def dif_reminders() -> int:
    """Daily: J-30, J-7, J-1 reminders before the DIF deadline (each sent once)."""
    return services.dif_send_reminders()
