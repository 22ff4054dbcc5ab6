"""Strong confirmation of a purchase, and the titulaire's strong factors.

Accepting a proposal (and so paying) needs, just before, a confirmation this session made
with a factor the settings accept (``CPF_PURCHASE_FACTORS``; default passkey, recent
FranceConnect+ login or TOTP app; an e-mailed code as an option): ``require`` refuses
without one, ``consume`` uses it once the purchase is made. Passkeys go through the
``webauthn`` library: the challenge lives in the session and is used once; the origin and the
relying party are this site's."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import webauthn
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor, ResidentKeyRequirement

from accounts import two_factor
from cpf_portal.errors import UserFacingError
from notifications.services import email_queue

from .models import AccountFreeze, EmailChange, FraudAlert, Method, Passkey, StrongConfirmation


class ConfirmationError(UserFacingError):
    """A factor refused (wrong code, tampered assertion…): 400 with the message."""


class ConfirmationRequired(UserFacingError):
    """No strong confirmation for this purchase: 403 with the way forward."""

    status_code = 403


def purpose_of(dossier) -> str:
    return f"dossier:{dossier.numero}"


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CPF_STRONG_CONFIRMATION_MINUTES)


# --- The confirmation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Factors:
    """What this person may use now to confirm, among what the settings accept."""

    passkey: bool
    franceconnect_plus: bool
    totp: bool
    email: bool

    @property
    def any(self) -> bool:
        return self.passkey or self.franceconnect_plus or self.totp or self.email


def factors_for(request) -> Factors:
    accepted, user = set(settings.CPF_PURCHASE_FACTORS), request.user
    return Factors(
        passkey=Method.PASSKEY in accepted and user.passkeys.exists(),
        franceconnect_plus=Method.FRANCECONNECT_PLUS in accepted and franceconnect_plus_recent(request),
        totp=Method.TOTP in accepted and two_factor.confirmed_app(user) is not None,
        email=Method.EMAIL in accepted,
    )


FC_ACR_SESSION_KEY = "franceconnect_acr"
FC_AT_SESSION_KEY = "franceconnect_login_at"
FC_PLUS_LEVELS = {"eidas2", "eidas3"}


def franceconnect_plus_recent(request) -> bool:
    """A FranceConnect+ login (eIDAS substantiel or élevé) within the confirmation window."""
    acr, at = request.session.get(FC_ACR_SESSION_KEY), request.session.get(FC_AT_SESSION_KEY)
    if acr not in FC_PLUS_LEVELS or not at:
        return False
    return timezone.now() - datetime.datetime.fromisoformat(at) <= _window()


def confirm(*, user, purpose: str, method: str) -> StrongConfirmation:
    return StrongConfirmation.objects.create(user=user, purpose=purpose, method=method, confirmed_at=timezone.now())


def valid_confirmation(user, purpose: str) -> StrongConfirmation | None:
    return (
        StrongConfirmation.objects.filter(user=user, purpose=purpose, confirmed_at__gte=timezone.now() - _window(), used_at__isnull=True)
        .order_by("-confirmed_at")
        .first()
    )


def freeze_of(user) -> AccountFreeze | None:
    return AccountFreeze.objects.filter(user=user, lifted_at__isnull=True).select_related("case").first()


def frozen_refusal(freeze: AccountFreeze) -> str:
    case = f" (demande n° {freeze.case.reference})" if freeze.case_id else ""
    return (
        f"Vos achats sont bloqués depuis le {timezone.localtime(freeze.frozen_at):%d/%m/%Y} : vous avez signalé un achat "
        f"que vous n'avez pas fait. L'assistance vous contactera{case} pour les débloquer."
    )


def require(request, dossier) -> None:
    """Refuse a purchase on a frozen account, one an anti-fraud rule holds, or one without a
    fresh strong confirmation (a recent FranceConnect+ login counts by itself when accepted)."""
    purpose = purpose_of(dossier)
    if freeze := freeze_of(request.user):
        raise ConfirmationRequired(frozen_refusal(freeze))
    if hold := fraud_hold(dossier):
        raise ConfirmationRequired(hold)
    if not settings.CPF_PURCHASE_FACTORS or valid_confirmation(request.user, purpose):
        return
    if franceconnect_plus_recent(request) and Method.FRANCECONNECT_PLUS in settings.CPF_PURCHASE_FACTORS:
        confirm(user=request.user, purpose=purpose, method=Method.FRANCECONNECT_PLUS)
        return
    raise ConfirmationRequired("Confirmez d'abord votre identité : cet achat utilise vos droits formation.")


def consume(user, purpose: str) -> None:
    StrongConfirmation.objects.filter(user=user, purpose=purpose, confirmed_at__isnull=False, used_at__isnull=True).update(used_at=timezone.now())


def totp_confirm(*, user, purpose: str, code: str) -> StrongConfirmation:
    device, refusal = two_factor.check_code(user, code)
    if device is None:
        raise ConfirmationError(refusal)
    return confirm(user=user, purpose=purpose, method=Method.TOTP)


def _hash(user, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{user.pk}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def email_code_send(*, user, purpose: str) -> None:
    """A 6-digit code by e-mail (masked in the outbox), at most one a minute."""
    now = timezone.now()
    pending = StrongConfirmation.objects.filter(user=user, purpose=purpose, method=Method.EMAIL, confirmed_at__isnull=True)
    if pending.filter(created_at__gt=now - datetime.timedelta(seconds=60)).exists():
        raise ConfirmationError("Un code vient de vous être envoyé : patientez une minute avant d'en demander un autre.")
    pending.delete()
    code = f"{secrets.randbelow(1_000_000):06d}"
    StrongConfirmation.objects.create(user=user, purpose=purpose, method=Method.EMAIL, code_hash=_hash(user, code), created_at=now)
    email_queue(
        to=user.email,
        user=user,
        template="securite/emails/code",
        context={"user": user, "minutes": settings.CPF_STRONG_CONFIRMATION_MINUTES},
        secrets={"code": code},
    )


@transaction.atomic
def email_code_confirm(*, user, purpose: str, code: str) -> StrongConfirmation:
    pending = (
        StrongConfirmation.objects.select_for_update()
        .filter(user=user, purpose=purpose, method=Method.EMAIL, confirmed_at__isnull=True, created_at__gte=timezone.now() - _window())
        .order_by("-created_at")
        .first()
    )
    if pending is None or pending.attempts >= 5:
        raise ConfirmationError("Aucun code en cours de validité : demandez un nouveau code.")
    if not hmac.compare_digest(pending.code_hash, _hash(user, "".join(code.split()))):
        pending.attempts += 1
        pending.save(update_fields=["attempts"])
        raise ConfirmationError("Ce code n'est pas le bon. Saisissez le code à 6 chiffres reçu par courriel.")
    pending.confirmed_at = timezone.now()
    pending.save(update_fields=["confirmed_at"])
    return pending


# --- Passkeys (WebAuthn) ----------------------------------------------------------------------

CHALLENGE_SESSION_KEY = "webauthn_challenge"


def relying_party(request) -> tuple[str, str]:
    """(rp_id, origin) of this site as the browser sees it (the host is checked against
    ALLOWED_HOSTS), or as ``WEBAUTHN_RP_ID`` / ``WEBAUTHN_ORIGIN`` set them."""
    origin = settings.WEBAUTHN_ORIGIN or f"{request.scheme}://{request.get_host()}"
    return settings.WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0], origin


def _challenge(request, kind: str, challenge: bytes) -> None:
    request.session[CHALLENGE_SESSION_KEY] = {"kind": kind, "value": bytes_to_base64url(challenge)}


def _take_challenge(request, kind: str) -> bytes:
    """The challenge of the options just given, used once (a replay finds none)."""
    stored = request.session.pop(CHALLENGE_SESSION_KEY, None)
    if not stored or stored["kind"] != kind:
        raise ConfirmationError("Cette demande a expiré ou a déjà servi : recommencez.")
    return webauthn.base64url_to_bytes(stored["value"])


def passkey_registration_options(request) -> str:
    user = request.user
    rp_id, _ = relying_party(request)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="Mon Compte Formation",
        user_id=hashlib.sha256(f"{settings.SECRET_KEY}:{user.pk}".encode()).digest(),
        user_name=user.email,
        user_display_name=user.get_full_name() or user.email,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(p.credential_id)) for p in user.passkeys.all()],
    )
    _challenge(request, "register", options.challenge)
    return webauthn.options_to_json(options)


def passkey_register(request, *, credential: dict, name: str) -> Passkey:
    rp_id, origin = relying_party(request)
    challenge = _take_challenge(request, "register")
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        raise ConfirmationError(f"Cette clé d'accès n'a pas pu être enregistrée ({error}).") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise ConfirmationError("Cette clé d'accès est déjà enregistrée.")
    return Passkey.objects.create(
        user=request.user,
        name=(name or "").strip()[:100] or "Clé d'accès",
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def passkey_authentication_options(request) -> str:
    rp_id, _ = relying_party(request)
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(p.credential_id)) for p in request.user.passkeys.all()],
    )
    _challenge(request, "authenticate", options.challenge)
    return webauthn.options_to_json(options)


@transaction.atomic
def passkey_confirm(request, *, credential: dict, purpose: str) -> StrongConfirmation:
    """Check a passkey's assertion (challenge of this session, this site's origin, one of the
    person's own keys, its signature counter going up) and record the confirmation."""
    if Method.PASSKEY not in settings.CPF_PURCHASE_FACTORS:
        raise ConfirmationError("Ce moyen n'est pas accepté pour confirmer un achat.")
    rp_id, origin = relying_party(request)
    challenge = _take_challenge(request, "authenticate")
    raw_id = credential.get("rawId") or credential.get("id") if isinstance(credential, dict) else None
    passkey = Passkey.objects.select_for_update().filter(user=request.user, credential_id=raw_id or "").first()
    if passkey is None:
        raise ConfirmationError("Cette clé d'accès n'est pas enregistrée sur votre compte.")
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        raise ConfirmationError(f"La vérification de votre clé d'accès a échoué ({error}).") from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return confirm(user=request.user, purpose=purpose, method=Method.PASSKEY)


def parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ConfirmationError("Requête illisible.") from None
    if not isinstance(data, dict):
        raise ConfirmationError("Requête illisible.")
    return data


# --- Alerts -------------------------------------------------------------------------------------


def recent_logins(user, limit: int = 10):
    """The account's last logins (device and address), whatever identifier was typed."""
    from axes.models import AccessLog

    usernames = [f"compte:{user.pk}", user.email.lower(), user.nir or "-"]
    return AccessLog.objects.filter(username__in=usernames).order_by("-attempt_time")[:limit]


def new_device_alert(request, user) -> bool:
    """E-mail the titulaire when he logs in from a device (browser) his account has not used
    before; the first login of an account alerts no one. django-axes has logged this login
    already (its receiver runs first)."""
    agent = request.META.get("HTTP_USER_AGENT", "")[:255]
    logins = list(recent_logins(user, limit=50))
    previous = logins[1:]
    if not previous or any(log.user_agent == agent for log in previous):
        return False
    email_queue(
        to=user.email,
        user=user,
        template="securite/emails/new_device",
        context={"user": user, "agent": agent or "navigateur inconnu", "ip": logins[0].ip_address or "inconnue", "at": logins[0].attempt_time},
    )
    return True


# --- « Ce n'est pas moi » ------------------------------------------------------------------------

NOT_ME_SALT = "securite.not-me"
NOT_ME_MAX_AGE = 60 * 60 * 24 * 30  # the link of a purchase works for 30 days


def purchase_made(*, user, dossier) -> None:
    """« Vous venez d'utiliser vos droits formation »: the amount, the organisme, and a link
    « Ce n'est pas moi » (personal: masked in the outbox)."""
    from django.core import signing
    from django.urls import reverse

    token = signing.dumps({"u": user.pk, "d": dossier.pk}, salt=NOT_ME_SALT)
    email_queue(
        to=user.email,
        user=user,
        template="securite/emails/purchase",
        context={"user": user, "dossier": dossier, "organisme": dossier.organisme, "amount_cents": dossier.locked_cents},
        secrets={"not_me_path": reverse("securite:not-me", args=[token])},
    )


def not_me_dossier(token: str):
    """The dossier of a « Ce n'est pas moi » link, or ``ConfirmationError``."""
    from django.core import signing

    from dossiers.models import Dossier

    try:
        data = signing.loads(token, salt=NOT_ME_SALT, max_age=NOT_ME_MAX_AGE)
    except signing.BadSignature:
        raise ConfirmationError(
            "Ce lien n'est pas valide ou a expiré. Écrivez à l'assistance pour signaler un achat que vous n'avez pas fait."
        ) from None
    dossier = Dossier.objects.select_related("titulaire", "organisme", "formation").filter(pk=data.get("d"), titulaire_id=data.get("u")).first()
    if dossier is None:
        raise ConfirmationError("Ce lien ne correspond à aucun achat.")
    return dossier


@transaction.atomic
def not_me(*, token: str) -> tuple[AccountFreeze, list]:
    """Freeze the account's purchases, cancel its dossiers still in their rétractation window
    (free), open an assistance case; tell the titulaire. Twice: the same freeze, nothing more."""
    from accounts.models import ContactRequest, User
    from accounts.services import assistance_case_open
    from dossiers.models import Dossier
    from dossiers.services import dossier_transition
    from dossiers.states import Actor, Status

    dossier = not_me_dossier(token)
    user = User.objects.select_for_update().get(pk=dossier.titulaire_id)
    if freeze := freeze_of(user):
        return freeze, []
    now = timezone.now()
    case = assistance_case_open(
        user=user,
        subject=ContactRequest.Subject.DEMARCHAGE,
        message=f"« Ce n'est pas moi » : le titulaire conteste l'achat du dossier n° {dossier.numero} ({dossier.organisme}). Achats bloqués.",
        dossier_numero=dossier.numero,
    )
    AccountFreeze.objects.filter(user=user).delete()  # a lifted freeze before: this one replaces it
    freeze = AccountFreeze.objects.create(user=user, dossier=dossier, case=case, frozen_at=now)
    cancelled = []
    for open_dossier in Dossier.objects.filter(titulaire=user, status=Status.ACCEPTED, retractation_until__gt=now).order_by("pk"):
        cancelled.append(
            dossier_transition(
                dossier_id=open_dossier.pk,
                name="cancel",
                actor=Actor.TITULAIRE,
                by=user,
                payload={"reason": "Ce n'est pas moi : achat contesté par le titulaire", "force_majeure": False},
            )
        )
    email_queue(
        to=user.email,
        user=user,
        template="securite/emails/frozen",
        context={"user": user, "case": case, "cancelled": cancelled},
    )
    return freeze, cancelled


@transaction.atomic
def freeze_lift(*, freeze: AccountFreeze, by) -> None:
    AccountFreeze.objects.filter(pk=freeze.pk, lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=by)


# --- Anti-fraud rules (domain notes §9: phone scams, stolen logins) ---------------------------


def fraud_hold(dossier, *, now: datetime.datetime | None = None, record: bool = True) -> str:
    """Why an anti-fraud rule holds this purchase (« » when none does); each hold is an
    alert for the operators. The rules, each a setting:

    - an organisme that sent CPF_FRAUD_BURST_PROPOSALS proposals or more within the hour to
      accounts created less than CPF_FRAUD_NEW_ACCOUNT_MINUTES before (the scam: an account
      opened on the phone by a « conseiller », then a proposal at once): held until an
      operator has looked;
    - the account's e-mail changed less than CPF_FRAUD_EMAIL_CHANGE_HOURS ago: held until then;
    - CPF_FRAUD_MAX_PURCHASES_PER_DAY purchases made today already: held until tomorrow."""
    from dossiers.models import Dossier

    def _alert(rule: str, dossier, detail: str) -> FraudAlert:
        if not record:  # a page only shown: what an acceptance would record
            return FraudAlert.objects.filter(rule=rule, dossier=dossier).first() or FraudAlert(rule=rule, dossier=dossier, detail=detail)
        alert, _ = FraudAlert.objects.get_or_create(rule=rule, dossier=dossier, defaults={"user_id": dossier.titulaire_id, "detail": detail[:300]})
        return alert

    now = now or timezone.now()
    titulaire = dossier.titulaire
    fresh = datetime.timedelta(minutes=settings.CPF_FRAUD_NEW_ACCOUNT_MINUTES)
    if dossier.proposed_at and dossier.proposed_at - titulaire.date_joined <= fresh:
        burst = Dossier.objects.filter(
            organisme_id=dossier.organisme_id,
            proposed_at__range=(dossier.proposed_at - datetime.timedelta(hours=1), dossier.proposed_at),
            proposed_at__lte=F("titulaire__date_joined") + fresh,
        )
        burst = burst.values("titulaire_id").distinct().count()
        if burst >= settings.CPF_FRAUD_BURST_PROPOSALS:
            alert = _alert(
                FraudAlert.Rule.NEW_ACCOUNT_BURST,
                dossier,
                f"Propositions de l'organisme en une heure à {burst} comptes créés depuis moins de {settings.CPF_FRAUD_NEW_ACCOUNT_MINUTES} minutes",
            )
            if alert.handled_at is None:
                return (
                    "Cette proposition est en cours de vérification par nos services : l'organisme a fait de nombreuses propositions "
                    "à des comptes tout juste créés. Vous serez prévenu dès la fin de la vérification. Si quelqu'un vous a appelé pour "
                    "créer votre compte, ne donnez aucun code et écrivez à l'assistance."
                )
    change = EmailChange.objects.filter(user=titulaire, changed_at__gt=now - datetime.timedelta(hours=settings.CPF_FRAUD_EMAIL_CHANGE_HOURS)).first()
    if change:
        until = timezone.localtime(change.changed_at + datetime.timedelta(hours=settings.CPF_FRAUD_EMAIL_CHANGE_HOURS))
        _alert(FraudAlert.Rule.EMAIL_CHANGED, dossier, f"Adresse changée le {timezone.localtime(change.changed_at):%d/%m/%Y %H:%M}")
        return (
            f"Votre adresse électronique a changé le {timezone.localtime(change.changed_at):%d/%m/%Y à %H:%M} : pour votre sécurité, "
            f"vos achats reprennent le {until:%d/%m/%Y à %H:%M}. Si vous n'avez pas fait ce changement, écrivez à l'assistance."
        )
    today = Dossier.objects.filter(titulaire=titulaire, accepted_at__date=timezone.localdate(now)).count()
    if today >= settings.CPF_FRAUD_MAX_PURCHASES_PER_DAY:
        _alert(FraudAlert.Rule.DAILY_PURCHASES, dossier, f"{today} achats le {timezone.localdate(now):%d/%m/%Y}")
        return f"Vous avez déjà fait {today} achats aujourd'hui : pour votre sécurité, le suivant sera possible demain."
    return ""
