"""A login from a device the account has not used before sends an alert by e-mail."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.dispatch import receiver

from accounts.models import Role


@receiver(user_logged_in)
def alert_new_device(sender, request, user, **kwargs):
    if request is None or user.role != Role.TITULAIRE:
        return
    from .services import new_device_alert

    new_device_alert(request, user)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def record_email_change(sender, instance, raw=False, **kwargs):
    """Every change of an account's e-mail address is recorded (the anti-fraud rules read it)."""
    update_fields = kwargs.get("update_fields")
    if raw or instance.pk is None or (update_fields is not None and "email" not in update_fields):
        return
    from .models import EmailChange

    old = sender.objects.filter(pk=instance.pk).values_list("email", flat=True).first()
    if old and old.lower() != (instance.email or "").lower():
        EmailChange.objects.create(user_id=instance.pk, old_email=old, new_email=instance.email)
