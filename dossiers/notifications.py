"""What each transition and reminder tells the titulaire and the organisme: an e-mail (sent
after commit) and an in-app notification (« Mes notifications »), each with a dedup key so
that a job run twice, or a retried request, never tells anyone twice."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cpf_portal.money import euros
from notifications.services import email_queue, emails_insert, notifications_insert, notify, one_line, render_message, send_many_after_commit

from .models import Dossier

# The copy of each (event, audience) lives in templates/dossiers/notifications/
# <event>_<audience>_subject.txt and _body.txt; the fields they get are ``_fields``.
TEMPLATES = "dossiers/notifications"
AUDIENCES = ("titulaire", "organisme")
CHUNK = 1000  # dossiers read and written per round of notify_many


def has_message(key: str, audience: str) -> bool:
    return (key, audience) in _KNOWN


def _known() -> set[tuple[str, str]]:
    from pathlib import Path

    folder = Path(settings.BASE_DIR) / "templates" / TEMPLATES
    known = set()
    for path in folder.glob("*_subject.txt"):
        stem = path.name.removesuffix("_subject.txt")
        for audience in AUDIENCES:
            if stem.endswith(f"_{audience}"):
                known.add((stem.removesuffix(f"_{audience}"), audience))
    return known


_KNOWN = _known()


def _date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        # A deadline at midnight is the end of the day before.
        return (timezone.localtime(value) - datetime.timedelta(seconds=1)).strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def _fields(dossier) -> dict:
    return {
        "numero": dossier.numero,
        "intitule": dossier.formation.intitule,
        "organisme": dossier.organisme.raison_sociale,
        "titulaire": dossier.titulaire.full_name,
        "deadline": _date(dossier.deadline_at),
        "reason": dossier.refusal_reason or dossier.cancellation_reason or "non précisé",
        "locked": euros(dossier.locked_cents),
        "consumed": euros(dossier.consumed_cents),
        "rate": dossier.completion_rate if dossier.completion_rate is not None else "—",
        "retractation": _date(dossier.retractation_until),
        "start": _date(dossier.effective_start_date),
        "free": dossier.consumed_cents == 0,
    }


# What _fields, _recipients and the URLs read: a batch loads only these columns (building
# four full model instances per dossier was a quarter of the deadline jobs' time).
BATCH_FIELDS = (
    "numero",
    "organisme_id",
    "deadline_at",
    "refusal_reason",
    "cancellation_reason",
    "locked_cents",
    "consumed_cents",
    "completion_rate",
    "retractation_until",
    "start_date",
    "proposed_start_date",
    "formation__intitule",
    "organisme__raison_sociale",
    "organisme__email",
    "titulaire__first_name",
    "titulaire__usage_name",
    "titulaire__last_name",
    "titulaire__email",
)


def _url(dossier, audience: str) -> str:
    if audience == "titulaire":
        return reverse("dossiers:detail", args=[dossier.numero])
    return reverse("dossiers:organisme-detail", args=[dossier.numero])


PLACEHOLDER = "0000000000"


def _urls() -> dict[str, str]:
    """The dossier page of each audience with a placeholder numero, reversed once a batch."""
    return {audience: _url(SimpleNamespace(numero=PLACEHOLDER), audience) for audience in AUDIENCES}


def _render(dossier, key: str, audience: str) -> tuple[str, str, str]:
    subject, message = render_message(f"{TEMPLATES}/{key}_{audience}", _fields(dossier))
    return subject, message.strip(), _url(dossier, audience)


def _recipients(dossier, audience: str, staff_by_organisme: dict | None = None) -> tuple[list[User], str]:
    """(users told in the app, address e-mailed)."""
    if audience == "titulaire":
        return [dossier.titulaire], dossier.titulaire.email
    if staff_by_organisme is not None:  # a batch read every organisme's staff at once
        staff = staff_by_organisme.get(dossier.organisme_id, [])
    else:
        staff = list(User.objects.filter(role=Role.ORGANISME, organisme_id=dossier.organisme_id, is_active=True))
    return staff, dossier.organisme.email


def notify_transition(dossier, key: str, audience: str, *, event_id: int) -> None:
    """Inside the transition's transaction: notification rows now, e-mails after commit."""
    if not has_message(key, audience):
        return
    subject, message, url = _render(dossier, key, audience)
    users, address = _recipients(dossier, audience)
    dedup = f"dossier:{dossier.pk}:{key}:{event_id}:{audience}"
    for user in users:
        notify(user=user, title=subject, body=message, url=url, dedup_key=f"{dedup}:{user.pk}")
    if address:
        email_queue(
            to=address,
            user=users[0] if audience == "titulaire" else None,
            template="dossiers/emails/notification",
            context={"subject": subject, "message": message, "url": url},
            dedup_key=f"{dedup}:email",
        )


MARK = "\ue000"  # a private-use character: no text holds it, no strip() removes it


class Stencil:
    """One render per template and batch, not one per dossier: each template is rendered once
    per shape of its context (the booleans it branches on) with a marker in place of every
    text field, then each dossier's values are put in the markers. The « text » engine
    escapes nothing, so the result is what a full render gives (tested on every notice)."""

    def __init__(self):
        self._cache: dict[tuple, tuple[str, str]] = {}

    def render(self, template: str, fields: dict) -> tuple[str, str]:
        shape = tuple(sorted((name, value) for name, value in fields.items() if isinstance(value, bool)))
        if (template, shape) not in self._cache:
            marked = {name: value if isinstance(value, bool) else f"{MARK}{name}{MARK}" for name, value in fields.items()}
            self._cache[(template, shape)] = render_message(template, marked)
        subject, body = self._cache[(template, shape)]
        for name, value in fields.items():
            if not isinstance(value, bool):
                subject = subject.replace(f"{MARK}{name}{MARK}", str(value))
                body = body.replace(f"{MARK}{name}{MARK}", str(value))
        return one_line(subject), body


def notify_many(items: list[tuple[int, object]], key: str, audiences: tuple[str, ...]) -> int:
    """Set-based: the same notice about many dossiers, ``items`` = (dossier id, what makes it
    unique). Two queries to read, two bulk inserts (duplicates ignored), then the e-mails of
    the rows really created are queued after commit. Returns how many were new."""
    if not items:
        return 0
    if len(items) > CHUNK:  # bounded memory whatever the number due at once
        return sum(notify_many(items[start : start + CHUNK], key, audiences) for start in range(0, len(items), CHUNK))
    discriminators = dict(items)
    dossiers = list(Dossier.objects.filter(pk__in=discriminators).select_related("titulaire", "organisme", "formation").only(*BATCH_FIELDS))
    staff_by_organisme: dict[int, list[User]] = {}
    for user in User.objects.filter(role=Role.ORGANISME, is_active=True, organisme_id__in={d.organisme_id for d in dossiers}):
        staff_by_organisme.setdefault(user.organisme_id, []).append(user)
    notifications, emails, groups = [], [], {}
    stencil, urls = Stencil(), _urls()
    for dossier in dossiers:
        for audience in audiences:
            if not has_message(key, audience):
                continue
            subject, message = stencil.render(f"{TEMPLATES}/{key}_{audience}", _fields(dossier))
            message, url = message.strip(), urls[audience].replace(PLACEHOLDER, dossier.numero)
            users, address = _recipients(dossier, audience, staff_by_organisme)
            dedup = f"dossier:{dossier.pk}:{key}:{discriminators[dossier.pk]}:{audience}"
            rows = [(user.pk, subject, message, url, f"{dedup}:{user.pk}") for user in users]
            notifications += rows
            groups[dedup] = [row[-1] for row in rows]
            if address:
                _, body = stencil.render("dossiers/emails/notification", {"subject": subject, "message": message, "url": url})
                emails.append((address, "dossiers/emails/notification", subject, body, f"{dedup}:email"))
                groups[dedup].append(f"{dedup}:email")
    written = notifications_insert(notifications)
    new_emails = emails_insert(emails)
    send_many_after_commit(list(new_emails.values()))
    known = {row[-1] for row in notifications} - written
    known |= {row[-1] for row in emails} - set(new_emails)
    return sum(1 for keys in groups.values() if keys and not set(keys) & known)
