"""A login from a device the account has not used before sends an alert by e-mail."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.models import Role


@receiver(user_logged_in)
def alert_new_device(sender, request, user, **kwargs):
    if request is None or user.role != Role.TITULAIRE:
        return
    from .services import new_device_alert

    new_device_alert(request, user)
