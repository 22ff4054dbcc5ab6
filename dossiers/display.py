"""How each audience reads a dossier's state. Display only: the rules are in ``workflow``.

The vocabulary rule: every state has, for each audience, a label (its name on the pages and
badges) and one sentence saying what happens next and who acts. The titulaire reads the
design card's names (« Envoyé », « Proposition de l'organisme », « Débité »…) in plain words,
never the organismes' back-office jargon (« Non traité », « service fait »…); the organisme
reads EDOF's names. A badge is « warning » only when its reader must act now."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cpf_portal.templatetags import deadline_day

from .states import BillingState, ControlState, Status

TITULAIRE = "titulaire"
ORGANISME = "organisme"


@dataclass(frozen=True)
class StateText:
    label: str
    next_step: str
    badge: str  # a DSFR badge modifier (« warning », « info »…), "" for a neutral badge


# --- The titulaire ---------------------------------------------------------------------------------

TITULAIRE_STATES: dict[str, StateText] = {
    Status.DRAFT: StateText(
        "En cours de création",
        "À vous d'agir : complétez vos informations, vérifiez le financement puis envoyez votre dossier ; l'organisme ne le voit pas encore.",
        "new",
    ),
    Status.SENT: StateText(
        "Envoyé",
        "L'organisme de formation étudie votre demande et vous répondra avant l'échéance ; vous n'avez rien à faire d'ici là.",
        "info",
    ),
    Status.PROPOSED: StateText(
        "Proposition de l'organisme",
        "À vous d'agir : acceptez la proposition de l'organisme (en réglant le reste à payer s'il y en a un) ou refusez-la avant l'échéance.",
        "warning",
    ),
    Status.ACCEPTED: StateText(
        "Accepté",
        "Votre inscription est confirmée : présentez-vous au début de la formation, l'organisme déclarera votre entrée.",
        "success",
    ),
    Status.IN_TRAINING: StateText(
        "En formation",
        "Suivez votre formation ; à la fin, l'organisme déclarera votre sortie.",
        "success",
    ),
    Status.SERVICE_DONE: StateText(
        "Formation terminée",
        "L'organisme a déclaré la fin de votre formation ; vos droits seront débités sous quelques jours, sans action de votre part.",
        "info",
    ),
    Status.DEBITED: StateText(
        "Débité",
        "Formation terminée et droits débités : il n'y a plus rien à faire.",
        "success",
    ),
    Status.REFUSED_BY_ORGANISME: StateText(
        "Refusé par l'organisme",
        "L'organisme n'a pas retenu votre demande ; vos droits n'ont pas été touchés et vous pouvez chercher une autre session.",
        "error",
    ),
    Status.REFUSED_BY_TITULAIRE: StateText(
        "Proposition refusée",
        "Vous avez refusé la proposition de l'organisme ; vos droits n'ont pas été touchés.",
        "",
    ),
    Status.CANCELLED_BY_TITULAIRE: StateText(
        "Annulé à votre demande",
        "Vous avez annulé ce dossier ; il n'y a plus rien à faire.",
        "",
    ),
    Status.CANCELLED_BY_ORGANISME: StateText(
        "Annulé par l'organisme",
        "L'organisme a annulé la formation ; vos droits et votre éventuel paiement vous sont rendus.",
        "error",
    ),
    Status.CANCELLED_NOT_REALIZED: StateText(
        "Formation non suivie",
        "L'organisme a déclaré que vous ne vous êtes pas présenté : les droits engagés sont perdus (en cas de désaccord, contactez l'assistance).",
        "error",
    ),
    Status.SERVICE_REFUSED: StateText(
        "Formation non validée",
        "Le contrôle n'a pas validé la réalisation de la formation : vos droits vous sont rendus.",
        "error",
    ),
    Status.EXPIRED: StateText(
        "Annulé sans suite",
        "Le délai de réponse est passé : le dossier est annulé et vos droits n'ont pas été touchés.",
        "",
    ),
    Status.DELETED: StateText("Supprimé", "Vous avez supprimé ce dossier.", ""),
}


# --- The organisme (EDOF) ------------------------------------------------------------------------

ORGANISME_STATES: dict[str, StateText] = {
    Status.DRAFT: StateText("En cours de création par le titulaire", "Le titulaire n'a pas encore envoyé sa demande.", ""),
    Status.SENT: StateText(
        "Non traité",
        "À vous d'agir : validez la demande (en ajustant au besoin prix, dates et durée) ou refusez-la avant l'échéance.",
        "warning",
    ),
    Status.PROPOSED: StateText(
        "Validé (en attente du titulaire)",
        "En attente du titulaire : il accepte ou refuse votre proposition ; rien à faire de votre côté.",
        "info",
    ),
    Status.ACCEPTED: StateText(
        "Accepté",
        "À vous d'agir : déclarez l'entrée en formation dès que le titulaire a commencé (à partir du premier jour de la session).",
        "warning",
    ),
    Status.IN_TRAINING: StateText(
        "En formation",
        "Formation en cours : à la fin, déclarez la sortie de formation et le service fait.",
        "info",
    ),
    Status.SERVICE_DONE: StateText(
        "Service fait déclaré",
        "En attente de la Caisse des Dépôts : le service fait est validé automatiquement après 5 jours ouvrés, sauf contrôle.",
        "info",
    ),
    Status.DEBITED: StateText("Service fait validé", "Le service fait est validé : la facturation suit son cours.", "success"),
    Status.REFUSED_BY_ORGANISME: StateText("Refusé (par l'organisme)", "Dossier clos : vous avez refusé la demande.", ""),
    Status.REFUSED_BY_TITULAIRE: StateText("Refus titulaire", "Dossier clos : le titulaire a refusé votre proposition.", ""),
    Status.CANCELLED_BY_TITULAIRE: StateText("Annulé (par le titulaire)", "Dossier clos : le titulaire a annulé sa demande ou sa formation.", ""),
    Status.CANCELLED_BY_ORGANISME: StateText(
        "Annulé (par l'organisme)", "Dossier clos : vous avez annulé la formation ; le titulaire a été remboursé.", ""
    ),
    Status.CANCELLED_NOT_REALIZED: StateText(
        "Annulation titulaire (non réalisé)", "Dossier clos : l'absence du titulaire est déclarée ; l'indemnité de 5 % se facture.", ""
    ),
    Status.SERVICE_REFUSED: StateText("Service fait refusé", "Dossier clos : le contrôle a refusé le service fait ; rien n'est dû.", "error"),
    Status.EXPIRED: StateText("Annulé sans suite", "Dossier clos : le délai de réponse est passé sans suite.", ""),
    Status.DELETED: StateText("Supprimé", "Le titulaire a supprimé ce dossier.", ""),
}

# Situations of one state that change who acts (the organisme's side).
NOT_STARTED = StateText("Accepté", "En attente du début de la session : vous déclarerez l'entrée en formation à partir du premier jour.", "info")
IN_CONTROL = StateText(
    "Service fait déclaré (en contrôle)",
    "À vous d'agir : déposez vos justificatifs de réalisation ; la Caisse des Dépôts décide ensuite.",
    "warning",
)
ACOMPTE_TO_BILL = (
    "À vous d'agir : facturez l'acompte depuis « Facturation », puis déclarez la sortie de formation et le service fait à la fin de la formation."
)
TO_BILL = "À vous d'agir : le dossier est à facturer depuis « Facturation »."

TEXTS = {TITULAIRE: TITULAIRE_STATES, ORGANISME: ORGANISME_STATES}


def state_text(dossier, audience: str, today: datetime.date | None = None) -> StateText:
    """What ``audience`` reads about ``dossier`` now: the label, the next step, the badge."""
    text = TEXTS[audience][dossier.status]
    if audience != ORGANISME:
        return text
    if dossier.status == Status.ACCEPTED and today is not None and (dossier.effective_start_date or today) > today:
        return NOT_STARTED
    if dossier.status == Status.SERVICE_DONE and dossier.control_state == ControlState.IN_CONTROL:
        return IN_CONTROL
    if dossier.billing_state == BillingState.ACOMPTE_TO_BILL:
        return StateText(text.label, ACOMPTE_TO_BILL, "warning")
    if dossier.billing_state == BillingState.TO_BILL:
        return StateText(text.label, TO_BILL, "warning")
    return text


def deadline_text(dossier, audience: str) -> str:
    """The deadline in words, saying whose it is (the organisme's page never says « à
    traiter » when the dossier waits for the titulaire)."""
    if not dossier.deadline_at:
        return ""
    day = deadline_day(dossier.deadline_at)
    mine = {
        TITULAIRE: {Status.SENT: f"Réponse de l'organisme au plus tard le {day}", Status.PROPOSED: f"À répondre au plus tard le {day}"},
        ORGANISME: {Status.SENT: f"À traiter au plus tard le {day}", Status.PROPOSED: f"Réponse du titulaire attendue au plus tard le {day}"},
    }[audience]
    if dossier.status == Status.SERVICE_DONE:
        return f"Validation automatique du service fait après le {day}" if audience == ORGANISME else f"Débit des droits prévu après le {day}"
    return mine.get(dossier.status, f"Échéance : {day}")


# --- The history (« Historique du dossier ») ----------------------------------------------------------
# Each row names what happened, in its reader's words; who did it is said once, after it.
# A row that changes no state (an acknowledgement, a control) has its own name, never its state's.

_BOTH = {
    "create": "Dossier créé",
    "send": "Dossier envoyé",
    "acknowledge": "Accusé de réception de la demande",
    "refuse": "Demande refusée",
    "cancel_request": "Demande annulée",
    "accept": "Proposition acceptée",
    "decline": "Proposition refusée",
    "expire": "Dossier annulé sans suite, faute de réponse dans le délai",
    "cancel": "Formation annulée",
    "cancel_by_organisme": "Formation annulée",
    "enter": "Entrée en formation déclarée",
    "delete": "Dossier supprimé",
}
EVENT_LABELS: dict[str, dict[str, str]] = {
    TITULAIRE: _BOTH
    | {
        "propose": "Proposition envoyée",
        "no_show": "Absence à la formation déclarée",
        "declare_service_done": "Fin de formation déclarée",
        "validate_service": "Droits débités",
        "refuse_service": "Réalisation de la formation non validée",
        "control_open": "Contrôle de la réalisation de la formation",
    },
    ORGANISME: _BOTH
    | {
        "propose": "Demande validée, proposition envoyée",
        "no_show": "Absence du titulaire déclarée (non réalisé)",
        "declare_service_done": "Sortie de formation et service fait déclarés",
        "validate_service": "Service fait validé",
        "refuse_service": "Service fait refusé",
        "control_open": "Service fait mis en contrôle",
    },
}
ACTOR_WORDS: dict[str, dict[str, str]] = {
    TITULAIRE: {"titulaire": "par vous", "organisme": "par l'organisme", "operateur": "par la Caisse des Dépôts", "system": "automatiquement"},
    ORGANISME: {"titulaire": "par le titulaire", "organisme": "par vous", "operateur": "par la Caisse des Dépôts", "system": "automatiquement"},
}


def history_line(event, audience: str) -> str:
    """« Accusé de réception de la demande par l'organisme »: what happened, then who (once)."""
    label = EVENT_LABELS[audience].get(event.transition) or TEXTS[audience][event.to_status].label
    actor = ACTOR_WORDS[audience].get(event.actor_role, "")
    if event.transition == "expire":
        actor = ""  # the label says why: nobody acted
    return f"{label} {actor}".strip()


# --- What the older pages and other apps read (kept for them) --------------------------------------


ORGANISME_LABELS = {status: text.label for status, text in ORGANISME_STATES.items() if status not in (Status.DRAFT, Status.DELETED)}
NEXT_ACTION = {status: TITULAIRE_STATES[status].next_step for status in Status.open_values()}
BADGES = {status: text.badge for status, text in TITULAIRE_STATES.items() if text.badge}


def titulaire_label(status: str) -> str:
    return TITULAIRE_STATES[status].label


def organisme_label(status: str) -> str:
    return ORGANISME_STATES[status].label


def next_action(status: str) -> str:
    return NEXT_ACTION.get(status, "")


def badge(status: str) -> str:
    """The titulaire's badge modifier (never empty, for templates writing ``fr-badge--{{ … }}``)."""
    return TITULAIRE_STATES[status].badge or "info"
