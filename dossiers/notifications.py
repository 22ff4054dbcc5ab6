"""What each transition and reminder tells the titulaire and the organisme: an e-mail (sent
after commit) and an in-app notification (« Mes notifications »), each with a dedup key so
that a job run twice, or a retried request, never tells anyone twice."""

from __future__ import annotations

import datetime
import itertools
from types import SimpleNamespace

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cpf_portal.money import NARROW_NBSP, NBSP, euros
from cpf_portal.sql import fetch_bound
from equipes.permissions import Right, members_with, members_with_sql
from notifications.services import email_queue, notify, render_message, send_many_after_commit

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


def _recipients(dossier, audience: str) -> tuple[list[User], str]:
    """(users told in the app, address e-mailed)."""
    if audience == "titulaire":
        return [dossier.titulaire], dossier.titulaire.email
    staff = members_with(Right.DOSSIERS_VOIR, [dossier.organisme_id]).get(dossier.organisme_id, [])
    return staff, dossier.session.action.registration_email


def notify_transition(dossier, key: str, audience: str, *, event_id: int, now: datetime.datetime | None = None) -> None:
    """Inside the transition's transaction: notification rows now (dated ``now``, the moment of
    the step), e-mails after commit."""
    if not has_message(key, audience):
        return
    subject, message, url = _render(dossier, key, audience)
    users, address = _recipients(dossier, audience)
    dedup = f"dossier:{dossier.pk}:{key}:{event_id}:{audience}"
    for user in users:
        notify(user=user, title=subject, body=message, url=url, dedup_key=f"{dedup}:{user.pk}", now=now)
    if address:
        email_queue(
            to=address,
            user=users[0] if audience == "titulaire" else None,
            template="dossiers/emails/notification",
            context={"subject": subject, "message": message, "url": url},
            dedup_key=f"{dedup}:email",
        )


MARK = "\ue000"  # a private-use character: no text holds it, no strip() removes it

# Each field of ``_fields`` as SQL over d (the dossier), f (its formation), o (its organisme)
# and t (its titulaire), giving the same text as the Python above (tested on every notice).
_DAY = "to_char({}, 'DD/MM/YYYY')"
_LOCAL_DAY = "to_char(timezone(%(tz)s::text, {}) - interval '1 second', 'DD/MM/YYYY')"  # _date of a datetime
_EUROS = (
    "(CASE WHEN {0} < 0 THEN '−' ELSE '' END"
    " || regexp_replace((abs({0}) / 100)::text, '(\\d)(?=(\\d{{3}})+$)', '\\1' || %(narrow_nbsp)s::text, 'g')"
    " || ',' || lpad((abs({0}) %% 100)::text, 2, '0') || %(nbsp)s::text || '€')"
)
FIELD_SQL = {
    "numero": "d.numero",
    "intitule": "f.intitule",
    "organisme": "o.raison_sociale",
    "titulaire": "concat_ws(' ', nullif(t.first_name, ''), coalesce(nullif(t.usage_name, ''), nullif(t.last_name, '')))",
    "deadline": f"coalesce({_LOCAL_DAY.format('d.deadline_at')}, '—')",
    "reason": "coalesce(nullif(d.refusal_reason, ''), nullif(d.cancellation_reason, ''), 'non précisé')",
    "locked": _EUROS.format("d.locked_cents"),
    "consumed": _EUROS.format("d.consumed_cents"),
    "rate": "coalesce(d.completion_rate::text, '—')",
    "retractation": f"coalesce({_LOCAL_DAY.format('d.retractation_until')}, '—')",
    "start": f"coalesce({_DAY.format('coalesce(d.proposed_start_date, d.start_date)')}, '—')",
}
BOOLEAN_SQL = {"free": "d.consumed_cents = 0"}


class SqlText:
    """A notice's text as one SQL expression per template: the template is rendered once per
    shape of its context (the booleans it branches on) with a marker in place of every text
    field, and the markers become the fields' SQL; the literal pieces travel as parameters.
    So a batch's notices are written by the database (INSERT … SELECT) with nothing read or
    rendered row by row in Python. The « text » engine escapes nothing: the result is what a
    full render gives."""

    def __init__(self):
        self.params: dict[str, object] = {"tz": settings.TIME_ZONE, "nbsp": NBSP, "narrow_nbsp": NARROW_NBSP}

    def literal(self, text: str) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = text
        return f"%({name})s::text"

    def text(self, marked: str, expressions: dict[str, str]) -> str:
        """``marked`` (literal text with markers) as one SQL expression."""
        parts = marked.split(MARK)  # literal, name, literal, name, …, literal
        sql = [self.literal(part) if i % 2 == 0 else expressions[part] for i, part in enumerate(parts) if part or i % 2]
        return f"concat({', '.join(sql)})" if sql else "''"

    def render(self, template: str, expressions: dict[str, str], booleans: dict[str, str], *, strip: bool = True) -> tuple[str, str]:
        """(subject, body) of ``template`` as SQL: the subject on one line; the body stripped
        (a notice's message) or as ``render_message`` gives it (an e-mail's text)."""
        names = sorted(booleans)
        subjects, bodies = [], []
        for values in itertools.product((True, False), repeat=len(names)):
            context = {name: f"{MARK}{name}{MARK}" for name in expressions} | dict(zip(names, values, strict=True))
            subject, body = render_message(template, context)
            condition = " AND ".join(f"({booleans[n]}) = {'true' if v else 'false'}" for n, v in zip(names, values, strict=True))
            subjects.append((condition, f"btrim(regexp_replace({self.text(subject, expressions)}, '[ \\t\\r\\n]+', ' ', 'g'))"))
            body_sql = f"btrim({self.text(body.strip(), expressions)}, E' \\t\\r\\n')" if strip else self.text(body, expressions)
            bodies.append((condition, body_sql))
        return self._case(subjects), self._case(bodies)

    @staticmethod
    def _case(branches: list[tuple[str, str]]) -> str:
        if len(branches) == 1:
            return branches[0][1]
        whens = " ".join(f"WHEN {condition} THEN {sql}" for condition, sql in branches[:-1])
        return f"CASE {whens} ELSE {branches[-1][1]} END"


# Who is told: the titulaire, or the organisme's team members who see dossiers (in the app) and its address.
RECIPIENTS_SQL = {
    "titulaire": ("ARRAY[t.id]", "t.email"),
    "organisme": (
        "coalesce(staff.ids, '{}')",  # the « staff » rows of NOTIFY_MANY_SQL
        "COALESCE(NULLIF(ac.contact_email, ''), o.email)",  # Action.registration_email
    ),
}

NOTIFY_MANY_SQL = """
WITH batch AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(discriminators)s::text[]) AS b(id, discriminator)
), staff AS (
    {staff}
), notice AS (
    {notices}
), notif AS (
    INSERT INTO notifications_notification (user_id, title, body, url, dedup_key, created_at)
    SELECT u.id, n.subject, n.message, n.url, n.dedup || ':' || u.id, %(now)s FROM notice n, unnest(n.users) AS u(id)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING dedup_key
), mail AS (
    INSERT INTO notifications_email ("to", template, subject, body_text, status, attempts, last_error, dedup_key, created_at)
    SELECT n.address, %(email_template)s, {email_subject}, {email_body}, 'queued', 0, '', n.dedup || ':email', %(now)s
      FROM notice n WHERE n.address <> ''
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, dedup_key
)
SELECT NULL::bigint, dedup, cardinality(users) + (address <> '')::int FROM notice
UNION ALL SELECT NULL, dedup_key, NULL FROM notif
UNION ALL SELECT id, dedup_key, NULL FROM mail
"""

NOTICE_SQL = """
    SELECT {subject} AS subject, {message} AS message, {url} AS url, {users} AS users, coalesce({address}, '') AS address,
           'dossier:' || d.id || ':' || %(key)s || ':' || b.discriminator || ':{audience}' AS dedup
      FROM batch b
      JOIN dossiers_dossier d ON d.id = b.id
      JOIN accounts_user t ON t.id = d.titulaire_id
      JOIN catalogue_formation f ON f.id = d.formation_id
      JOIN catalogue_session ses ON ses.id = d.session_id
      JOIN catalogue_action ac ON ac.id = ses.action_id
      JOIN catalogue_organisme o ON o.id = d.organisme_id
      LEFT JOIN staff ON staff.organisme_id = d.organisme_id
"""

EMAIL_TEMPLATE = "dossiers/emails/notification"


def notify_many(items: list[tuple[int, object]], key: str, audiences: tuple[str, ...]) -> int:
    """Set-based: the same notice about many dossiers, ``items`` = (dossier id, what makes it
    unique). One statement per round writes the in-app notifications and the outbox e-mails
    (INSERT … SELECT, texts built by the database, duplicates ignored); the e-mails really
    created are queued after commit. Returns how many notices were new."""
    audiences = tuple(audience for audience in audiences if has_message(key, audience))
    if not items or not audiences:
        return 0
    if len(items) > CHUNK:  # bounded rounds whatever the number due at once
        return sum(notify_many(items[start : start + CHUNK], key, audiences) for start in range(0, len(items), CHUNK))
    sql = SqlText()
    urls = _urls()
    notices = []
    for audience in audiences:
        subject, message = sql.render(f"{TEMPLATES}/{key}_{audience}", FIELD_SQL, BOOLEAN_SQL)
        url = sql.text(urls[audience].replace(PLACEHOLDER, f"{MARK}numero{MARK}"), FIELD_SQL)
        users, address = RECIPIENTS_SQL[audience]
        notices.append(NOTICE_SQL.format(subject=subject, message=message, url=url, users=users, address=address, audience=audience))
    wrapper = {"subject": "n.subject", "message": "n.message", "url": "n.url"}
    email_subject, email_body = sql.render(EMAIL_TEMPLATE, wrapper, {}, strip=False)
    staff = members_with_sql(Right.DOSSIERS_VOIR, "SELECT d.organisme_id FROM batch b JOIN dossiers_dossier d ON d.id = b.id")
    statement = NOTIFY_MANY_SQL.format(notices="UNION ALL".join(notices), staff=staff, email_subject=email_subject, email_body=email_body)
    ids = [pk for pk, _ in items]
    params = sql.params | {
        "ids": ids,
        "discriminators": [str(d) for _, d in items],
        "key": key,
        "now": timezone.now(),
        "email_template": EMAIL_TEMPLATE,
    }
    expected, written, email_ids = {}, {}, []
    for email_id, dedup, count in fetch_bound(statement, params):
        if count is not None:
            expected[dedup] = count
        else:
            group = dedup.rsplit(":", 1)[0]
            written[group] = written.get(group, 0) + 1
            if email_id is not None:
                email_ids.append(email_id)
    send_many_after_commit(email_ids)
    return sum(1 for group, count in expected.items() if count and written.get(group, 0) == count)
