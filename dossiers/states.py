"""The dossier's vocabulary: its states, who acts, how a training ends, and the errors a
person may see. No logic here (the table is in ``workflow``, the labels per audience in
``display``)."""

from django.db import models

from cpf_portal.errors import ConflictError, UserFacingError


class Status(models.TextChoices):
    DRAFT = "draft", "En cours de création"
    SENT = "sent", "Envoyé (en attente de l'organisme)"
    PROPOSED = "proposed", "Proposition de l'organisme"
    ACCEPTED = "accepted", "Accepté"
    IN_TRAINING = "in_training", "En formation"
    SERVICE_DONE = "service_done", "Sortie de formation / service fait"
    DEBITED = "debited", "Débité"
    REFUSED_BY_ORGANISME = "refused_by_organisme", "Refusé par l'organisme"
    REFUSED_BY_TITULAIRE = "refused_by_titulaire", "Refusé par le titulaire"
    CANCELLED_BY_TITULAIRE = "cancelled_by_titulaire", "Annulé par le titulaire"
    CANCELLED_BY_ORGANISME = "cancelled_by_organisme", "Annulé par l'organisme"
    CANCELLED_NOT_REALIZED = "cancelled_not_realized", "Annulation titulaire (non réalisé)"
    SERVICE_REFUSED = "service_refused", "Service fait refusé (contrôle)"
    EXPIRED = "expired", "Annulé sans suite"
    DELETED = "deleted", "Supprimé"

    @classmethod
    def open_values(cls) -> list[str]:
        return [cls.DRAFT, cls.SENT, cls.PROPOSED, cls.ACCEPTED, cls.IN_TRAINING, cls.SERVICE_DONE]


class BillingState(models.TextChoices):
    """What the organisme may bill for the dossier (EDOF's billing sub-states, docs/regles.md
    §6.1); moved only by the table in ``dossiers.billing``."""

    NOT_BILLABLE = "not_billable", "Pas facturable"
    ACOMPTE_TO_BILL = "acompte_to_bill", "Acompte à facturer"
    ACOMPTE_BILLED = "acompte_billed", "Acompte facturé"
    ACOMPTE_PAID = "acompte_paid", "Acompte payé"
    TO_BILL = "to_bill", "À facturer"
    BILLED = "billed", "Facturé"
    PAID = "paid", "Payé"


class ControlState(models.TextChoices):
    """The Caisse des Dépôts' control of a service fait (EDOF: notInControl / inControl /
    released): in control, the automatic validation waits for the operator's decision."""

    NOT_IN_CONTROL = "not_in_control", "Pas de contrôle"
    IN_CONTROL = "in_control", "En contrôle"
    RELEASED = "released", "Contrôle terminé"


class Actor(models.TextChoices):
    TITULAIRE = "titulaire", "Titulaire"
    ORGANISME = "organisme", "Organisme de formation"
    SYSTEM = "system", "Système (échéance)"
    OPERATEUR = "operateur", "Opérateur"


class ExitReason(models.TextChoices):
    COMPLETE = "complete", "Formation suivie en totalité"
    ABANDON = "abandon", "Le titulaire n'a pas suivi toute la formation (abandon, absences)"
    INTERRUPTION_REPORT = "interruption_report", "Formation interrompue par l'organisme, avec un report proposé"
    INTERRUPTION_SANS_REPORT = "interruption_sans_report", "Formation interrompue par l'organisme, sans report possible"


class TransitionNotAllowed(ConflictError):
    """Wrong state, wrong role, stale page: nothing was changed; the message is shown (409)."""


class DossierError(UserFacingError):
    """A rule refused the action (a guard, the rights, the payment); the message is shown (400)."""
