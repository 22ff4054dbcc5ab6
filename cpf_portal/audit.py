"""The audit trail: django-auditlog records who changed what, when and from where.

The models it follows are listed in settings (``AUDITLOG_INCLUDE_TRACKING_MODELS``). This
module adapts the library to the portal:

- ``AuditMiddleware`` hands the request's user to the library lazily (the library's own
  middleware loads the user on every request, static pages included) and takes the client
  address the way django-axes does: ``REMOTE_ADDR``, or the address the trusted proxies saw
  (``AXES_IPWARE_PROXY_COUNT``), never a client-supplied ``X-Forwarded-For`` taken at face value.
- ``mask`` replaces a masked value whole: the NIR is never stored, even in part.
- ``entries_about`` returns the entries that concern a titulaire (« Mes données »).
- ``changed_labels`` names an entry's changed fields as a person reads them.
"""

from __future__ import annotations

from auditlog.cid import set_cid
from auditlog.context import set_extra_data
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q

from cpf_portal.logs import request_id_var

MASK = "***"


def mask(value: str) -> str:
    return MASK


def current_request_id() -> str | None:
    """AUDITLOG_CID_GETTER: each entry carries the request id found in the logs."""
    return request_id_var.get()


def client_address(request) -> str | None:
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        # Each trusted proxy appends the address it saw; the client is the one the outermost
        # trusted proxy appended.
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        set_cid(request)
        # The lazy user: resolved only when an audited row is saved.
        context = {"actor": getattr(request, "user", None), "remote_addr": client_address(request), "remote_port": None}
        with set_extra_data(context_data=context):
            return self.get_response(request)


# Bookkeeping fields nobody changes by hand: never listed as « changed ».
TECHNICAL_FIELDS = {"id", "pk", "public_id", "organisme", "created_at", "updated_at", "updated_by"}


def changed_labels(entry: LogEntry, model) -> list[str]:
    """The fields ``entry`` changed, by their French label (the model's ``verbose_name``),
    without the technical ones: « titulaire du compte, IBAN, BIC »."""
    labels = []
    for name in entry.changes_dict:
        if name in TECHNICAL_FIELDS:
            continue
        try:
            labels.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:  # a field since removed: its name is all there is
            labels.append(name)
    return labels


def entries_about(user, account=None) -> list[LogEntry]:
    """Audit entries on the titulaire's user row and on their CPF account, oldest first."""
    condition = Q(content_type=ContentType.objects.get_for_model(user.__class__), object_id=user.pk)
    if account is not None:
        condition |= Q(content_type=ContentType.objects.get_for_model(account.__class__), object_id=account.pk)
    return list(LogEntry.objects.filter(condition).select_related("actor").order_by("timestamp", "pk"))


ACTIONS = {LogEntry.Action.CREATE: "création", LogEntry.Action.UPDATE: "modification", LogEntry.Action.DELETE: "suppression"}


def export_entries(user, account=None) -> list[dict]:
    """The entries as « Mes données » shows them: what changed on their profile and account,
    and who did it as a role (the operator's identity stays with the Caisse)."""
    user_type = ContentType.objects.get_for_model(user.__class__).pk
    rows = []
    for entry in entries_about(user, account):
        if entry.actor_id is None:
            author = "le système"
        elif entry.actor_id == user.pk:
            author = "vous"
        else:
            author = entry.actor.get_role_display() if hasattr(entry.actor, "get_role_display") else "un gestionnaire"
        rows.append(
            {
                "date": entry.timestamp.isoformat(),
                "objet": "profil" if entry.content_type_id == user_type else "compte CPF",
                "action": ACTIONS.get(entry.action, "accès"),
                "modifications": entry.changes or {},
                "auteur": author,
            }
        )
    return rows


def erase_personal_values(user, *, personal_fields) -> None:
    """On account deletion: the user's entries keep which fields changed and when, with the
    personal values replaced by « *** » (right to erasure; the history of roles and rights stays)."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(user.__class__), object_id=user.pk)
    for entry in entries:
        changes = entry.changes or {}
        for field in set(changes) & {*personal_fields, "first_name", "last_name", "email"}:
            value = changes[field]
            changes[field] = [MASK, MASK] if isinstance(value, list) else MASK
        # A queryset update: re-saving a LogEntry would run the library's pre_save hooks.
        LogEntry.objects.filter(pk=entry.pk).update(changes=changes, changes_text="", object_repr=MASK, serialized_data=None)
    LogEntry.objects.filter(actor=user).update(actor_email=None)
