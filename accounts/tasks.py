"""Time-driven jobs of the accounts."""

import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import PasswordResetRequest


@shared_task
def purge_login_logs() -> int:
    """Forget login attempts older than ``CPF_LOGIN_LOG_RETENTION_DAYS`` (30 days by default,
    as the privacy page says); lockouts in force are far younger and stay."""
    limit = timezone.now() - datetime.timedelta(days=settings.CPF_LOGIN_LOG_RETENTION_DAYS)
    total = 0
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        deleted, _ = model.objects.filter(attempt_time__lt=limit).delete()
        total += deleted
    deleted, _ = PasswordResetRequest.objects.filter(created_at__lt=limit).delete()
    return total + deleted
