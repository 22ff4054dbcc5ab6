"""How each audience reads a dossier's state: the organisme's inbox labels (EDOF), the
titulaire's next step and badge colour. Display only: the rules are in ``workflow``."""

from .states import Status

# What the organisme sees in its inbox (EDOF labels).
ORGANISME_LABELS = {
    Status.SENT: "Non traité",
    Status.PROPOSED: "Validé (en attente du titulaire)",
    Status.ACCEPTED: "Accepté",
    Status.IN_TRAINING: "En formation",
    Status.SERVICE_DONE: "Service fait déclaré",
    Status.DEBITED: "Service fait validé",
    Status.REFUSED_BY_ORGANISME: "Refusé (par l'organisme)",
    Status.REFUSED_BY_TITULAIRE: "Refus titulaire",
    Status.CANCELLED_BY_TITULAIRE: "Annulé (par le titulaire)",
    Status.CANCELLED_BY_ORGANISME: "Annulé (par l'organisme)",
    Status.CANCELLED_NOT_REALIZED: "Annulation titulaire (non réalisé)",
    Status.SERVICE_REFUSED: "Service fait refusé",
    Status.EXPIRED: "Annulé sans suite",
}

# « Mes dossiers »: what the titulaire has to do next, and the badge colour of each state.
NEXT_ACTION = {
    Status.DRAFT: "Compléter et envoyer votre dossier",
    Status.SENT: "Attendre la réponse de l'organisme",
    Status.PROPOSED: "Répondre à la proposition de l'organisme",
    Status.ACCEPTED: "Suivre votre formation à partir de la date de début",
    Status.IN_TRAINING: "Suivre votre formation",
    Status.SERVICE_DONE: "Validation du service fait en cours",
}
BADGES = {
    Status.DRAFT: "new",
    Status.SENT: "info",
    Status.PROPOSED: "warning",
    Status.ACCEPTED: "success",
    Status.IN_TRAINING: "success",
    Status.SERVICE_DONE: "info",
    Status.DEBITED: "success",
}


def organisme_label(status: str) -> str:
    return ORGANISME_LABELS.get(status) or Status(status).label


def next_action(status: str) -> str:
    return NEXT_ACTION.get(status, "")


def badge(status: str) -> str:
    return BADGES.get(status, "error")
