"""Two-factor login (TOTP through django-otp) for organisme staff and operators.

After the password, such an account must give a code of its authenticator app (or one of its
single-use recovery codes) before any other page: ``SecondFactorMiddleware`` sends it to the
enrolment page the first time (QR code, secret, first code, recovery codes), to the code page
afterwards. The session then carries the device (``django_otp.login``).
"""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role

APP_NAME = "Application d'authentification"
RECOVERY_NAME = "Codes de secours"
RECOVERY_COUNT = 10


def needs_second_factor(user) -> bool:
    return user.is_authenticated and (user.role == Role.ORGANISME or user.is_staff)


def confirmed_app(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_app(user) -> TOTPDevice:
    """The device being enrolled (kept across reloads of the enrolment page)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32, in groups of four."""
    key = base64.b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, omitsize=False)


def _code_refusal(device) -> str:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return ""
    until = data.get("locked_until") if data else None
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 60
    return f"Trop de codes erronés : patientez {seconds} seconde{'s' if seconds > 1 else ''} avant de réessayer."


def check_code(user, code: str, *, device: TOTPDevice | None = None):
    """The device that accepts ``code`` (the app's 6 digits, or a recovery code, used up),
    else a French message saying why not."""
    code = "".join(code.split()).lower()
    devices = (
        [device]
        if device is not None
        else [*TOTPDevice.objects.filter(user=user, confirmed=True), *StaticDevice.objects.filter(user=user, confirmed=True)]
    )
    for candidate in devices:
        with transaction.atomic():
            candidate = type(candidate).objects.select_for_update().get(pk=candidate.pk)
            if refusal := _code_refusal(candidate):
                return None, refusal
            if candidate.verify_token(code):
                return candidate, ""
    return None, "Ce code n'est pas le bon. Saisissez le code à 6 chiffres affiché par l'application, ou un code de secours."


@transaction.atomic
def recovery_codes_new(user) -> list[str]:
    """Replace the person's recovery codes (each works once); return them to show once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def enrol(request, device: TOTPDevice, code: str) -> tuple[list[str], str]:
    """Confirm the app with its first code: (recovery codes, "") or ([], refusal)."""
    accepted, refusal = check_code(request.user, code, device=device)
    if accepted is None:
        return [], refusal
    TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return recovery_codes_new(request.user), ""


@transaction.atomic
def remove_all(user) -> None:
    """Remove the person's authenticator app and recovery codes."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def enrolled_users(user_ids) -> set[int]:
    return set(TOTPDevice.objects.filter(user_id__in=user_ids, confirmed=True).values_list("user_id", flat=True))


class SecondFactorMiddleware:
    """After ``django_otp``'s middleware: an account that needs a second factor and has not
    given it this session reaches only the enrolment and code pages (and logout)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if needs_second_factor(user) and not user.is_verified() and not self._open(request.path):
            target = "accounts:two-factor" if confirmed_app(user) else "accounts:two-factor-setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        open_paths = (
            reverse("accounts:two-factor"),
            reverse("accounts:two-factor-setup"),
            reverse("accounts:logout"),
            settings.STATIC_URL,
        )
        return path.startswith(open_paths)
