from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.send_email")
def send_email(email_id: int) -> bool:
    return services.email_send(email_id)


@shared_task(name="notifications.tasks.send_emails")
def send_emails(email_ids: list[int]) -> int:
    """A batch of queued e-mails (deadline jobs); returns how many left now."""
    return sum(services.email_send(email_id) for email_id in email_ids)


@shared_task(name="notifications.tasks.requeue_stuck_emails")
def requeue_stuck_emails() -> int:
    return services.requeue_stuck()
