"""Account writes: signup, activation code, profile. Views only parse input and call these."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cpf_portal.errors import UserFacingError
from notifications.services import email_queue

from .models import ActivationCode, ContactRequest, PasswordResetRequest, Role, User


class ActivationError(UserFacingError):
    """Base of the activation failures; the message is shown next to the code field."""


class CodeExpired(ActivationError):
    pass


class CodeInvalid(ActivationError):
    def __init__(self, message: str, remaining: int):
        super().__init__(message)
        self.remaining = remaining


class TooManyAttempts(ActivationError):
    pass


class NoActiveCode(ActivationError):
    pass


class ResendRefused(ActivationError):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _hash_code(user: User, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{user.pk}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def titulaire_signup(
    *,
    nir: str,
    first_name: str,
    last_name: str,
    birth_date: datetime.date,
    email: str,
    password: str,
    apprenticeship_contract: bool,
) -> User | None:
    """Create a titulaire account (not yet activated) and e-mail its activation code.

    When the NIR or the e-mail already has an account, nothing is created and None is
    returned: the page answers as for a new account (so it tells no one who has one), and
    the owner of that account is told by e-mail instead."""
    owners = list(User.objects.filter(Q(nir=nir) | Q(email__iexact=email)))
    if not owners:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    role=Role.TITULAIRE,
                    nir=nir,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    birth_date=birth_date,
                    apprenticeship_contract=apprenticeship_contract,
                    cgu_accepted_at=timezone.now(),
                )
        except IntegrityError:  # created in between by a concurrent signup
            owners = list(User.objects.filter(Q(nir=nir) | Q(email__iexact=email)))
        else:
            activation_code_send(user=user, check_rate=False)
            return user
    for owner in owners:
        email_queue(
            to=owner.email,
            user=owner,
            template="accounts/emails/signup_existing",
            context={"user": owner, "by_nir": owner.nir == nir, "by_email": owner.email.lower() == email.lower()},
        )
    return None


def wrong_code(attempts: int) -> ActivationError:
    """The refusal of a wrong activation code after ``attempts`` wrong tries."""
    remaining = settings.CPF_ACTIVATION_MAX_ATTEMPTS - attempts
    if remaining <= 0:
        return TooManyAttempts("Trop d'essais incorrects : ce code n'est plus valable. Demandez un nouveau code avec « Renvoyer un code ».")
    plural = "s" if remaining > 1 else ""
    return CodeInvalid(f"Ce code est incorrect. Il vous reste {remaining} essai{plural}.", remaining)


def _current_code(user: User) -> ActivationCode | None:
    return ActivationCode.objects.select_for_update().filter(user=user, used_at__isnull=True, revoked_at__isnull=True).order_by("-created_at").first()


@transaction.atomic
def activation_code_send(*, user: User, check_rate: bool = True) -> ActivationCode:
    """Issue a new 6-digit code (revoking the previous one) and e-mail it.

    « Renvoyer un code » is limited: one code per CPF_ACTIVATION_RESEND_INTERVAL_SECONDS and
    CPF_ACTIVATION_MAX_CODES_PER_HOUR per hour."""
    now = timezone.now()
    # Lock the user row: two concurrent « Renvoyer » clicks are serialised here.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if check_rate:
        last = ActivationCode.objects.filter(user=user).order_by("-created_at").first()
        interval = settings.CPF_ACTIVATION_RESEND_INTERVAL_SECONDS
        if last and (now - last.created_at).total_seconds() < interval:
            wait = interval - int((now - last.created_at).total_seconds())
            raise ResendRefused(f"Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans {wait} secondes.", wait)
        hour_ago = now - datetime.timedelta(hours=1)
        recent = ActivationCode.objects.filter(user=user, created_at__gte=hour_ago).order_by("created_at")
        if recent.count() >= settings.CPF_ACTIVATION_MAX_CODES_PER_HOUR:
            wait = int((recent.first().created_at + datetime.timedelta(hours=1) - now).total_seconds()) + 1
            raise ResendRefused(f"Vous avez demandé trop de codes. Réessayez dans {max(1, (wait + 59) // 60)} minutes.", wait)
    ActivationCode.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    activation = ActivationCode.objects.create(
        user=user,
        code_hash=_hash_code(user, code),
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.CPF_ACTIVATION_CODE_TTL_MINUTES),
    )
    email_queue(
        to=user.email,
        user=user,
        template="accounts/emails/activation_code",
        context={"user": user, "ttl": settings.CPF_ACTIVATION_CODE_TTL_MINUTES},
        secrets={"code": code},
    )
    return activation


def activation_code_check(*, user: User, code: str) -> User:
    """Activate the account if ``code`` is the current one; count wrong tries.

    After CPF_ACTIVATION_MAX_ATTEMPTS wrong tries the code is revoked and a new one is needed.
    The counting is committed even though the call then raises.
    """
    with transaction.atomic():
        error = _check_code(user, code.strip(), timezone.now())
    if error is not None:
        raise error
    return user


def _check_code(user: User, code: str, now: datetime.datetime) -> ActivationError | None:
    User.objects.select_for_update().filter(pk=user.pk).first()
    user.refresh_from_db(fields=["activated_at"])
    if user.is_activated:
        return None
    current = _current_code(user)
    if current is None:
        return NoActiveCode("Aucun code en cours de validité : demandez un nouveau code avec « Renvoyer un code ».")
    if current.expires_at <= now:
        current.revoked_at = now
        current.save(update_fields=["revoked_at"])
        return CodeExpired("Ce code a expiré. Demandez un nouveau code avec « Renvoyer un code ».")
    if not hmac.compare_digest(current.code_hash, _hash_code(user, code)):
        current.attempts += 1
        error = wrong_code(current.attempts)
        if isinstance(error, TooManyAttempts):
            current.revoked_at = now
        current.save(update_fields=["attempts", "revoked_at"])
        return error
    current.used_at = now
    current.save(update_fields=["used_at"])
    user.activated_at = now
    user.save(update_fields=["activated_at"])
    return None


@transaction.atomic
def profile_update(*, user: User, data: dict) -> User:
    """Save « Mes informations » (already validated by the form)."""
    for field, value in data.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(data))
    return user


# --- Interlocuteurs and assistance ------------------------------------------------------------


@transaction.atomic
def interlocuteur_choose(*, user: User, structure) -> User:
    """The titulaire's chosen interlocuteur (None to remove it)."""
    user.interlocuteur = structure
    user.save(update_fields=["interlocuteur"])
    return user


class RateLimited(UserFacingError):
    """Too many requests from one address: 429 with the message."""

    status_code = 429


def _client_key(client_ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), (client_ip or "").encode(), hashlib.sha256).hexdigest()


def password_reset_throttle(*, email: str, client_ip: str) -> bool:
    """Count a « Mot de passe oublié » request: False when this address already had
    CPF_PASSWORD_RESET_MAX_PER_ADDRESS links within the hour (the page answers the same, no
    e-mail leaves, whether or not the address has an account); ``RateLimited`` when this
    client made CPF_PASSWORD_RESET_MAX_PER_CLIENT requests within the hour."""
    now = timezone.now()
    recent = PasswordResetRequest.objects.filter(created_at__gte=now - datetime.timedelta(hours=1))
    address, client = _client_key(email.strip().lower()), _client_key(client_ip)
    if recent.filter(client_key=client).count() >= settings.CPF_PASSWORD_RESET_MAX_PER_CLIENT:
        raise RateLimited("Trop de demandes de nouveau mot de passe depuis votre connexion : réessayez dans une heure.")
    allowed = recent.filter(address_key=address).count() < settings.CPF_PASSWORD_RESET_MAX_PER_ADDRESS
    PasswordResetRequest.objects.create(address_key=address, client_key=client, created_at=now)
    return allowed


def _case_reference(now: datetime.datetime) -> str:
    return f"AS-{now:%Y%m%d}-{secrets.randbelow(1_000_000):06d}"


def assistance_case_open(*, user, subject: str, message: str, dossier_numero: str = "") -> ContactRequest:
    """A case the site opens for the assistance on the person's behalf (no limit, no ack)."""
    now = timezone.now()
    return ContactRequest.objects.create(
        reference=_case_reference(now),
        user=user,
        name=user.get_full_name() or user.email,
        email=user.email,
        subject=subject,
        message=message,
        dossier_numero=dossier_numero,
        created_at=now,
    )


@transaction.atomic
def contact_request_create(*, user, name: str, email: str, subject: str, message: str, dossier_numero: str, client_ip: str):
    """Store a message to the assistance and acknowledge it by e-mail. At most
    CPF_CONTACT_MAX_PER_HOUR messages an hour from one address (IP) or one e-mail."""
    now = timezone.now()
    key = _client_key(client_ip)
    hour_ago = now - datetime.timedelta(hours=1)
    recent = ContactRequest.objects.filter(created_at__gte=hour_ago)
    limit = settings.CPF_CONTACT_MAX_PER_HOUR
    if recent.filter(client_key=key).count() >= limit or recent.filter(email__iexact=email).count() >= limit:
        raise RateLimited("Vous avez déjà envoyé plusieurs messages dans l'heure : réessayez plus tard.")
    request = ContactRequest.objects.create(
        reference=_case_reference(now),
        user=user if user is not None and user.is_authenticated else None,
        name=name.strip(),
        email=email.strip().lower(),
        subject=subject,
        message=message.strip(),
        dossier_numero=dossier_numero,
        client_key=key,
        created_at=now,
    )
    email_queue(
        to=request.email,
        user=request.user,
        template="accounts/emails/contact_ack",
        context={"request": request},
    )
    return request
