"""Team writes: invitations, arrivals, roles, departures, switching organisme. Each logs a
``TeamEvent`` in the same transaction; views only parse input and call these."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cpf_portal.errors import ConflictError, UserFacingError
from notifications.services import email_queue

from .models import Invitation, Membership, TeamEvent, TeamRole, roles_label, token_digest

LAST_RESPONSABLE = "L'organisme doit garder au moins un responsable des accès : nommez-en un autre avant."


class InvitationInvalid(UserFacingError):
    """The link was used, cancelled or has expired."""

    status_code = 410


class InvitationUnknown(InvitationInvalid):
    status_code = 404


def _log(organisme, actor, kind, subject: str, detail: str = "") -> TeamEvent:
    return TeamEvent.objects.create(organisme=organisme, actor=actor, kind=kind, subject=subject, detail=detail)


def _person(user: User) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


def _ordered(roles) -> list[str]:
    chosen = set(roles)
    if not chosen:
        raise UserFacingError("Choisissez au moins un rôle.")
    return [role for role in TeamRole.values if role in chosen]


def _keep_a_responsable(membership: Membership, new_roles: list[str]) -> None:
    if TeamRole.RESPONSABLE not in membership.roles or TeamRole.RESPONSABLE in new_roles:
        return
    others = Membership.objects.filter(organisme=membership.organisme, roles__contains=[TeamRole.RESPONSABLE]).exclude(pk=membership.pk)
    if not others.exists():
        raise ConflictError(LAST_RESPONSABLE)


@transaction.atomic
def member_add(*, user: User, organisme, roles, by: User | None = None) -> Membership:
    """Put ``user`` (organisme staff) in the team; without a current organisme, it becomes theirs."""
    roles = _ordered(roles)
    membership, created = Membership.objects.get_or_create(user=user, organisme=organisme, defaults={"roles": roles})
    if not created:
        raise ConflictError(f"{_person(user)} fait déjà partie de l'équipe.")
    if user.organisme_id is None:
        user.organisme = organisme
        user.save(update_fields=["organisme"])
    _log(organisme, by, TeamEvent.Kind.JOINED, _person(user), f"Rôles : {roles_label(roles)}")
    return membership


@transaction.atomic
def invite(*, organisme, email: str, roles, by: User) -> tuple[Invitation, str]:
    """Create the invitation and queue its e-mail; return it with its token (shown nowhere else)."""
    roles = _ordered(roles)
    email = User.objects.normalize_email(email).strip()
    if Membership.objects.filter(organisme=organisme, user__email__iexact=email).exists():
        raise UserFacingError("Cette personne fait déjà partie de l'équipe.")
    # A new invitation to the same address replaces the pending one.
    pending = Invitation.objects.filter(organisme=organisme, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
    pending.update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(organisme=organisme, email=email, roles=roles, token_digest=token_digest(token), invited_by=by)
    email_queue(
        to=email,
        template="equipes/emails/invitation",
        context={
            "organisme": organisme,
            "invited_by": by,
            "roles": roles_label(roles),
            "expires_at": invitation.expires_at,
        },
        secrets={"path": reverse("equipes:invitation", args=[token])},
    )
    _log(organisme, by, TeamEvent.Kind.INVITED, email, f"Rôles proposés : {roles_label(roles)}")
    return invitation, token


def invitation_for(token: str, *, lock: bool = False) -> Invitation:
    """The invitation of a link, if it can still be used (``InvitationInvalid`` otherwise)."""
    invitations = Invitation.objects.select_related("organisme", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_digest=token_digest(token)).first()
    if invitation is None:
        raise InvitationUnknown("Ce lien d'invitation n'existe pas. Vérifiez qu'il a été copié en entier.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("Cette invitation a déjà été utilisée. Connectez-vous avec votre compte.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("Cette invitation a été annulée par l'organisme. Demandez-lui une nouvelle invitation.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            f"Cette invitation a expiré le {timezone.localtime(invitation.expires_at):%d/%m/%Y à %H:%M}. Demandez-en une nouvelle."
        )
    return invitation


def account_exists(invitation: Invitation) -> bool:
    """Is there already an account for the invited address (then the person logs in to accept)?"""
    return User.objects.filter(email__iexact=invitation.email).exists()


def account_refusal(invitation: Invitation, user: User) -> str:
    """Why ``user`` (logged in) cannot accept ``invitation``; empty when they can."""
    if user.email.lower() != invitation.email.lower():
        return "Cette invitation a été envoyée à une autre adresse électronique que celle de votre compte. Déconnectez-vous, puis ouvrez à nouveau le lien."
    if user.role != Role.ORGANISME:
        return "Votre compte n'est pas un compte d'organisme de formation : demandez une invitation à une autre adresse électronique."
    return ""


@transaction.atomic
def invitation_accept(*, token: str, user: User | None = None, first_name: str = "", last_name: str = "", password: str = "") -> User:
    """Accept with the logged-in ``user``, or create the account (names and password) when
    none exists for the address. The person then works in the organisme they joined."""
    invitation = invitation_for(token, lock=True)
    if user is None:
        if account_exists(invitation):
            raise UserFacingError("Un compte existe déjà pour cette adresse : connectez-vous pour accepter l'invitation.")
        user = User(
            email=invitation.email,
            role=Role.ORGANISME,
            organisme=invitation.organisme,
            first_name=first_name,
            last_name=last_name,
            activated_at=timezone.now(),
        )
        user.set_password(password)
        user.save()
    elif refusal := account_refusal(invitation, user):
        raise UserFacingError(refusal)
    membership = Membership.objects.filter(user=user, organisme=invitation.organisme).first()
    if membership is not None:
        raise ConflictError("Vous faites déjà partie de l'équipe de cet organisme.")
    Membership.objects.create(user=user, organisme=invitation.organisme, roles=invitation.roles)
    user.organisme = invitation.organisme
    user.save(update_fields=["organisme"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _log(invitation.organisme, user, TeamEvent.Kind.JOINED, _person(user), f"Invitation acceptée ; rôles : {roles_label(invitation.roles)}")
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User) -> None:
    if not invitation.is_pending():
        raise ConflictError("Cette invitation n'est plus en attente.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _log(invitation.organisme, by, TeamEvent.Kind.INVITATION_REVOKED, invitation.email)


@transaction.atomic
def roles_change(*, membership: Membership, roles, by: User) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user", "organisme").get(pk=membership.pk)
    roles = _ordered(roles)
    if roles == membership.roles:
        return membership
    _keep_a_responsable(membership, roles)
    before = membership.roles_label
    membership.roles = roles
    membership.save(update_fields=["roles"])
    _log(membership.organisme, by, TeamEvent.Kind.ROLES_CHANGED, _person(membership.user), f"{before} → {membership.roles_label}")
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, by: User) -> None:
    """Remove a member (or, ``by`` the member, leave). Their sessions in this organisme end
    at their next request: every page checks the membership."""
    membership = Membership.objects.select_for_update().select_related("user", "organisme").get(pk=membership.pk)
    _keep_a_responsable(membership, [])
    membership.delete()
    leaving = membership.user_id == by.pk
    kind = TeamEvent.Kind.LEFT if leaving else TeamEvent.Kind.REMOVED
    _log(membership.organisme, by, kind, _person(membership.user), f"Rôles : {membership.roles_label}")
    user = membership.user
    other = Membership.objects.filter(user=user).order_by("created_at").first()
    if user.organisme_id == membership.organisme_id and other is not None:
        user.organisme_id = other.organisme_id
        user.save(update_fields=["organisme"])


def organisme_switch(*, user: User, organisme_id: int) -> Membership:
    membership = Membership.objects.select_related("organisme").filter(user=user, organisme_id=organisme_id).first()
    if membership is None:
        raise UserFacingError("Vous ne faites pas partie de l'équipe de cet organisme.")
    user.organisme_id = organisme_id
    user.save(update_fields=["organisme"])
    return membership
