"""What each transition and reminder tells the titulaire and the organisme: an e-mail (sent
after commit) and an in-app notification (« Mes notifications »), each with a dedup key so
that a job run twice, or a retried request, never tells anyone twice."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cpf_portal.templatetags import euros
from notifications.models import Email, Notification
from notifications.services import email_queue, notify, send_after_commit

# (key, audience) → (subject, message). Fields: numero, intitule, organisme, titulaire,
# deadline, reason, locked, consumed, rate, reste, start.
MESSAGES = {
    ("send", "organisme"): (
        "[Non traité] Dossier de formation n°{numero}",
        "{titulaire} demande à s'inscrire à « {intitule} ». Répondez avant le {deadline} : sans réponse, la demande sera annulée sans suite.",
    ),
    ("send", "titulaire"): (
        "Votre dossier n° {numero} est envoyé",
        "{organisme} a jusqu'au {deadline} pour répondre à votre demande d'inscription à « {intitule} ».",
    ),
    ("propose", "titulaire"): (
        "Proposition de l'organisme pour votre dossier n° {numero}",
        "{organisme} a validé votre demande pour « {intitule} ». Consultez sa proposition et répondez avant le {deadline}.",
    ),
    ("refuse", "titulaire"): ("Votre demande n° {numero} est refusée par l'organisme", "{organisme} a refusé votre demande. Motif : {reason}"),
    ("cancel_request", "organisme"): (
        "Demande d'inscription annulée — dossier n°{numero}",
        "{titulaire} a annulé sa demande d'inscription à « {intitule} ».",
    ),
    ("decline", "organisme"): ("Proposition refusée — dossier n°{numero}", "{titulaire} a refusé votre proposition pour « {intitule} »."),
    ("expire", "titulaire"): (
        "Dossier n° {numero} annulé sans suite",
        "Le délai de réponse est dépassé : votre dossier pour « {intitule} » est annulé sans suite. Vos droits ne sont pas touchés.",
    ),
    ("expire", "organisme"): (
        "Dossier n°{numero} annulé sans suite",
        "Le délai de réponse est dépassé : le dossier de {titulaire} est annulé sans suite.",
    ),
    ("accept", "organisme"): (
        "Dossier n°{numero} accepté par le titulaire",
        "{titulaire} a accepté votre proposition pour « {intitule} ». Déclarez l'entrée en formation dès le premier jour.",
    ),
    ("accept", "titulaire"): (
        "Votre inscription est confirmée — dossier n° {numero}",
        "{locked} de droits sont bloqués pour « {intitule} ». Vous pouvez vous rétracter sans frais jusqu'au {retractation}.",
    ),
    ("cancel", "organisme"): ("Formation annulée par le titulaire — dossier n°{numero}", "{titulaire} a annulé son inscription à « {intitule} »."),
    ("cancel", "titulaire"): ("Votre formation est annulée — dossier n° {numero}", "Votre inscription à « {intitule} » est annulée. {money}"),
    ("cancel_by_organisme", "titulaire"): (
        "Formation annulée par l'organisme — dossier n° {numero}",
        "{organisme} a annulé la formation « {intitule} ». Motif : {reason}. Vos droits sont débloqués et le montant payé par carte est remboursé sous 30 jours.",
    ),
    ("enter", "titulaire"): ("Entrée en formation — dossier n° {numero}", "{organisme} a déclaré votre entrée en formation « {intitule} »."),
    ("declare_service_done", "titulaire"): (
        "Fin de formation déclarée — dossier n° {numero}",
        "{organisme} a déclaré la fin de « {intitule} » (réalisée à {rate} %). {consumed} de droits seront débités après validation du service fait.",
    ),
    ("validate_service", "titulaire"): (
        "Vos droits ont été débités — dossier n° {numero}",
        "Le service fait est validé : {consumed} ont été débités de vos droits formation pour « {intitule} ».",
    ),
    ("remind_organisme", "organisme"): (
        "Rappel : dossier n°{numero} à traiter avant le {deadline}",
        "La demande de {titulaire} pour « {intitule} » attend votre réponse. Sans réponse avant le {deadline}, elle sera annulée sans suite.",
    ),
    ("remind_titulaire", "titulaire"): (
        "Rappel : répondez à la proposition avant le {deadline}",
        "La proposition de {organisme} pour « {intitule} » attend votre réponse avant le {deadline}.",
    ),
    ("remind_late_cancel", "titulaire"): (
        "Votre formation commence le {start}",
        "À partir de maintenant, annuler votre inscription à « {intitule} » sans motif de force majeure vous fait perdre les droits bloqués.",
    ),
    ("remind_entry", "organisme"): (
        "Entrée en formation à déclarer — dossier n°{numero}",
        "La session de {titulaire} pour « {intitule} » a commencé le {start} : déclarez l'entrée en formation.",
    ),
}


def _date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        # A deadline at midnight is the end of the day before.
        return (timezone.localtime(value) - datetime.timedelta(seconds=1)).strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def _fields(dossier) -> dict:
    money = ""
    if dossier.status == "cancelled_by_titulaire":
        money = (
            "Vos droits sont débloqués et le montant payé par carte est remboursé sous 30 jours."
            if dossier.consumed_cents == 0
            else f"L'annulation intervient moins de 7 jours ouvrés avant le début : {euros(dossier.consumed_cents)} de droits sont perdus."
        )
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
        "money": money,
    }


def _url(dossier, audience: str) -> str:
    if audience == "titulaire":
        return reverse("dossiers:detail", args=[dossier.numero])
    return reverse("dossiers:organisme-detail", args=[dossier.numero])


def _render(dossier, key: str, audience: str) -> tuple[str, str, str]:
    subject, message = MESSAGES[(key, audience)]
    fields = _fields(dossier)
    return subject.format(**fields), message.format(**fields), _url(dossier, audience)


def _recipients(dossier, audience: str, staff_by_organisme: dict | None = None) -> tuple[list[User], str]:
    """(users told in the app, address e-mailed)."""
    if audience == "titulaire":
        return [dossier.titulaire], dossier.titulaire.email
    staff = (staff_by_organisme or {}).get(dossier.organisme_id)
    if staff is None:
        staff = list(User.objects.filter(role=Role.ORGANISME, organisme_id=dossier.organisme_id, is_active=True))
    return staff, dossier.organisme.email


def notify_transition(dossier, key: str, audience: str, *, event_id: int) -> None:
    """Inside the transition's transaction: notification rows now, e-mails after commit."""
    if (key, audience) not in MESSAGES:
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


def notify_many(items: list[tuple[int, object]], key: str, audiences: tuple[str, ...]) -> int:
    """Set-based: the same notice about many dossiers, ``items`` = (dossier id, what makes it
    unique). Two queries to read, two bulk inserts (duplicates ignored), then the e-mails of
    the rows really created are queued after commit. Returns how many were new."""
    from .models import Dossier

    if not items:
        return 0
    discriminators = dict(items)
    dossiers = list(Dossier.objects.filter(pk__in=discriminators).select_related("titulaire", "organisme", "formation"))
    staff_by_organisme: dict[int, list[User]] = {}
    for user in User.objects.filter(role=Role.ORGANISME, is_active=True, organisme_id__in={d.organisme_id for d in dossiers}):
        staff_by_organisme.setdefault(user.organisme_id, []).append(user)
    notifications, emails, groups = [], [], {}
    for dossier in dossiers:
        for audience in audiences:
            if (key, audience) not in MESSAGES:
                continue
            subject, message, url = _render(dossier, key, audience)
            users, address = _recipients(dossier, audience, staff_by_organisme)
            dedup = f"dossier:{dossier.pk}:{key}:{discriminators[dossier.pk]}:{audience}"
            rows = [Notification(user=user, title=subject, body=message, url=url, dedup_key=f"{dedup}:{user.pk}") for user in users]
            notifications += rows
            groups[dedup] = [row.dedup_key for row in rows]
            if address:
                body = render_to_string("dossiers/emails/notification_body.txt", {"message": message, "url": url, "site_url": settings.SITE_URL})
                emails.append(Email(to=address, template="dossiers/emails/notification", subject=subject, body_text=body, dedup_key=f"{dedup}:email"))
                groups[dedup].append(f"{dedup}:email")
    email_keys = [email.dedup_key for email in emails]
    known = set(Email.objects.filter(dedup_key__in=email_keys).values_list("dedup_key", flat=True))
    known |= set(Notification.objects.filter(dedup_key__in=[n.dedup_key for n in notifications]).values_list("dedup_key", flat=True))
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    Email.objects.bulk_create([email for email in emails if email.dedup_key not in known], ignore_conflicts=True)
    new_email_keys = set(email_keys) - known
    for email_id in Email.objects.filter(dedup_key__in=new_email_keys, status=Email.Status.QUEUED).values_list("pk", flat=True):
        send_after_commit(email_id)
    return sum(1 for keys in groups.values() if keys and not set(keys) & known)
