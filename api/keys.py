"""API keys: made by a Responsable des accès, shown once, stored as a SHA-256, scoped like
the team roles, expiring and revocable; each use recorded (at most once a minute)."""

from __future__ import annotations

import datetime
import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from equipes.models import TeamEvent

from .models import ApiKey, Scope, digest

PREFIX = "cpf"
LAST_USE_EVERY = datetime.timedelta(minutes=1)


@transaction.atomic
def key_create(*, organisme, name: str, scopes: list[str], expires_at: datetime.datetime | None, by) -> tuple[ApiKey, str]:
    """(the key, its whole text — shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Donnez un nom à la clé (par exemple le logiciel qui l'utilise)."})
    if not scopes or not set(scopes) <= set(Scope.values):
        raise ValidationError({"scopes": "Choisissez au moins un périmètre."})
    if expires_at and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "La date d'expiration doit être dans le futur."})
    prefix = secrets.token_hex(4)
    plain = f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        organisme=organisme,
        name=name[:100],
        prefix=prefix,
        key_digest=digest(plain),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=by,
    )
    TeamEvent.objects.create(organisme=organisme, actor=by, kind=TeamEvent.Kind.API_KEY_CREATED, subject=key.name, detail=key.scopes_label)
    return key, plain


def authenticate(token: str, *, now: datetime.datetime | None = None) -> ApiKey | None:
    """The active key whose text is ``token``, or None (unknown, revoked, expired)."""
    parts = (token or "").split("_", 2)  # the secret part may itself hold « _ »
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    key = ApiKey.objects.select_related("organisme", "created_by").filter(prefix=parts[1]).first()
    now = now or timezone.now()
    if key is None or not hmac.compare_digest(key.key_digest, digest(token)) or key.state(now) != "active":
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


@transaction.atomic
def key_revoke(*, key: ApiKey, by) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        TeamEvent.objects.create(organisme=key.organisme, actor=by, kind=TeamEvent.Kind.API_KEY_REVOKED, subject=key.name)
    return key
