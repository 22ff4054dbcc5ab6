from celery import shared_task

from . import webhooks


@shared_task(name="api.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks() -> int:
    """Send the webhook deliveries that are due (queued after each event, and every minute
    by beat for the retries)."""
    return webhooks.deliver_due()
