import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import address_lines
from cpf_portal.files import private_name
from cpf_portal.money import euros

from . import display
from .states import BillingState, ControlState, Status


class DossierQuerySet(models.QuerySet):
    def for_titulaire(self, user):
        return self.filter(titulaire=user).exclude(status=Status.DELETED)

    def for_organisme(self, organisme):
        # The organisme never sees a dossier before it is sent.
        return self.filter(organisme=organisme).exclude(status__in=[Status.DRAFT, Status.DELETED])

    def open(self):
        return self.filter(status__in=Status.open_values())

    def waiting_for_titulaire(self):
        """The dossiers on which the titulaire must act: to complete and send, or the
        organisme's proposal to answer."""
        return self.filter(status__in=[Status.DRAFT, Status.PROPOSED])


class Dossier(models.Model):
    """A dossier de formation: a titulaire's request for a session, then the organisme's
    proposal, then the training. ``status`` is written only by ``dossiers.workflow``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    numero = models.CharField("numéro", max_length=10, unique=True, editable=False)
    # No index of their own for the titulaire and the organisme: the composite indexes below
    # start with them (one index fewer to write on every change of state).
    titulaire = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dossiers", db_index=False, verbose_name="titulaire"
    )
    session = models.ForeignKey("catalogue.Session", on_delete=models.PROTECT, related_name="dossiers", verbose_name="session")
    formation = models.ForeignKey("catalogue.Formation", on_delete=models.PROTECT, related_name="dossiers", verbose_name="formation")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.PROTECT, related_name="dossiers", db_index=False, verbose_name="organisme")
    status = models.CharField("état", max_length=30, choices=Status.choices, default=Status.DRAFT, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Augmente à chaque changement d'état.", verbose_name="version")

    # The offer when the dossier was created…
    price_cents = models.BigIntegerField("prix de la formation")
    start_date = models.DateField("début", null=True, blank=True)
    end_date = models.DateField("fin", null=True, blank=True)
    duree_heures = models.PositiveIntegerField("durée (heures)")
    # …and the organisme's proposal (it may change price, dates, duration).
    proposed_price_cents = models.BigIntegerField("prix proposé", null=True, blank=True)
    proposed_start_date = models.DateField("début proposé", null=True, blank=True)
    proposed_end_date = models.DateField("fin proposée", null=True, blank=True)
    proposed_duree_heures = models.PositiveIntegerField("durée proposée", null=True, blank=True)

    # Financing (recomputed until acceptance, then fixed).
    droits_cents = models.BigIntegerField("droits formation", default=0)
    abondements_cents = models.BigIntegerField("abondements", default=0)
    participation_cents = models.BigIntegerField("participation forfaitaire", default=0)
    reste_a_payer_cents = models.BigIntegerField("reste à payer", default=0)
    avoir_cents = models.BigIntegerField("payé par avoir", default=0, help_text="La part du reste à payer réglée par les avoirs du titulaire.")
    locked_cents = models.BigIntegerField("droits bloqués", default=0)
    consumed_cents = models.BigIntegerField("droits débités", default=0)
    payment = models.OneToOneField(
        "financing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="dossier", verbose_name="paiement"
    )
    # Why no participation forfaitaire is due, and where that comes from (a declared situation,
    # an abondement and who added it), kept for the control.
    exemption = models.CharField("exonération de la participation", max_length=200, blank=True)
    exemption_source = models.CharField("source de l'exonération", max_length=300, blank=True)

    # Billing by the organisme (``dossiers.billing``): the state, what is billable now (TTC),
    # the acompte (25 % of the order for a session over 3 months, once the entry is declared).
    billing_state = models.CharField("facturation", max_length=20, choices=BillingState.choices, default=BillingState.NOT_BILLABLE, editable=False)
    billable_cents = models.BigIntegerField("montant à facturer (TTC)", default=0, editable=False)
    acompte_cents = models.BigIntegerField("acompte (TTC)", default=0, editable=False)

    # The operators' control of the service fait (``dossiers.services.control_open``).
    control_state = models.CharField(
        "contrôle du service fait", max_length=20, choices=ControlState.choices, default=ControlState.NOT_IN_CONTROL, editable=False
    )

    # What the titulaire validated (« Mes informations ») when sending, for the organisme.
    titulaire_info = models.JSONField("informations du titulaire", default=dict, blank=True)
    info_validated_at = models.DateTimeField(null=True, blank=True, verbose_name="informations validées le")

    # The next deadline and the transition it fires (system), for the periodic job.
    deadline_at = models.DateTimeField("échéance", null=True, blank=True)
    deadline_transition = models.CharField(max_length=40, blank=True, verbose_name="transition à l'échéance")
    retractation_until = models.DateTimeField("fin du délai de rétractation", null=True, blank=True)

    refusal_reason = models.TextField("motif du refus", blank=True)
    cancellation_reason = models.TextField("motif de l'annulation", blank=True)
    force_majeure = models.BooleanField("force majeure", default=False)
    exit_reason = models.CharField("motif de sortie", max_length=30, blank=True)
    completion_rate = models.PositiveSmallIntegerField("taux de réalisation (%)", null=True, blank=True)
    exit_date = models.DateField("date de sortie", null=True, blank=True)

    created_at = models.DateTimeField("créé le", default=timezone.now)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    # A formation with prérequis: the organisme acknowledges within 2 jours ouvrés, then has
    # 30 days from the sending to answer (both fixed when the dossier is sent).
    with_prerequisites = models.BooleanField("formation avec prérequis", default=False, db_default=False)
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    proposed_at = models.DateTimeField("proposition le", null=True, blank=True)
    accepted_at = models.DateTimeField("accepté le", null=True, blank=True)
    entered_at = models.DateTimeField("entrée en formation le", null=True, blank=True)
    service_done_at = models.DateTimeField("service fait déclaré le", null=True, blank=True)
    debited_at = models.DateTimeField("débité le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier de formation"
        verbose_name_plural = "dossiers de formation"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["titulaire", "-created_at"]),
            models.Index(fields=["organisme", "status", "-sent_at"]),
            # « Facturation »: an organisme's dossiers with something to bill.
            models.Index(
                fields=["organisme", "billing_state"],
                condition=Q(billing_state__in=[BillingState.ACOMPTE_TO_BILL, BillingState.TO_BILL]),
                name="dossier_to_bill_idx",
            ),
            # The deadline jobs claim « the oldest due of one transition » in index order, a batch at a time.
            models.Index(fields=["deadline_transition", "deadline_at"], condition=Q(deadline_at__isnull=False), name="dossier_deadline_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="dossier_status_known", condition=Q(status__in=Status.values)),
            models.CheckConstraint(name="dossier_billing_state_known", condition=Q(billing_state__in=BillingState.values)),
            models.CheckConstraint(
                name="dossier_money_positive",
                condition=Q(
                    droits_cents__gte=0,
                    reste_a_payer_cents__gte=0,
                    locked_cents__gte=0,
                    consumed_cents__gte=0,
                    billable_cents__gte=0,
                    acompte_cents__gte=0,
                ),
            ),
            models.CheckConstraint(name="dossier_completion_rate_range", condition=Q(completion_rate__isnull=True) | Q(completion_rate__lte=100)),
            # One open dossier per titulaire and session.
            models.UniqueConstraint(
                fields=["titulaire", "session"], condition=Q(status__in=Status.open_values()), name="dossier_one_open_per_session"
            ),
        ]

    def __str__(self):
        return f"Dossier n° {self.numero}"

    @property
    def titulaire_state(self) -> display.StateText:
        """The label, next step and badge the titulaire reads (``display``)."""
        return display.state_text(self, display.TITULAIRE)

    @property
    def organisme_state(self) -> display.StateText:
        """The label, next step and badge the organisme reads now (``display``)."""
        return display.state_text(self, display.ORGANISME, today=timezone.localdate())

    @property
    def titulaire_deadline(self) -> str:
        return display.deadline_text(self, display.TITULAIRE)

    @property
    def organisme_deadline(self) -> str:
        return display.deadline_text(self, display.ORGANISME)

    @property
    def next_action(self) -> str:
        return display.next_action(self.status)

    @property
    def badge(self) -> str:
        return display.badge(self.status)

    @property
    def organisme_label(self) -> str:
        return display.organisme_label(self.status)

    @property
    def effective_price_cents(self) -> int:
        return self.proposed_price_cents if self.proposed_price_cents is not None else self.price_cents

    @property
    def effective_start_date(self):
        return self.proposed_start_date or self.start_date

    @property
    def effective_end_date(self):
        return self.proposed_end_date or self.end_date

    @property
    def employment_status(self) -> str:
        """The titulaire's situation for this dossier: as validated in its « Mes informations »
        (kept with the dossier), else as in his account."""
        return self.titulaire_info.get("employment_status") or self.titulaire.employment_status

    @property
    def titulaire_address(self) -> str:
        """The address the titulaire validated for this dossier, whole, on one line (for its
        organisme): « 12 rue Serpenoise, 57000 Metz »."""
        return ", ".join(address_lines(self.titulaire_info or {}))

    @property
    def effective_duree_heures(self) -> int:
        return self.proposed_duree_heures or self.duree_heures

    @property
    def proposal_changes(self) -> list[tuple[str, str, str]]:
        """(what, before, after) of what the organisme changed."""
        changes = []
        if self.proposed_price_cents is not None and self.proposed_price_cents != self.price_cents:
            changes.append(("Prix", euros(self.price_cents), euros(self.proposed_price_cents)))
        if self.proposed_start_date and self.proposed_start_date != self.start_date:
            changes.append(("Date de début", _date(self.start_date), _date(self.proposed_start_date)))
        if self.proposed_end_date and self.proposed_end_date != self.end_date:
            changes.append(("Date de fin", _date(self.end_date), _date(self.proposed_end_date)))
        if self.proposed_duree_heures and self.proposed_duree_heures != self.duree_heures:
            changes.append(("Durée", f"{self.duree_heures} h", f"{self.proposed_duree_heures} h"))
        return changes


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "entrée permanente"


class DossierEvent(models.Model):
    """History of a dossier: one row per transition, written with it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=40, verbose_name="transition")
    from_status = models.CharField(max_length=30, choices=Status.choices, verbose_name="état de départ")
    to_status = models.CharField(max_length=30, choices=Status.choices, verbose_name="état d'arrivée")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="auteur")
    actor_role = models.CharField(max_length=20, verbose_name="rôle de l'auteur")
    comment = models.TextField(blank=True, verbose_name="commentaire")
    payload = models.JSONField(default=dict, blank=True, verbose_name="données")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="date")

    class Meta:
        verbose_name = "événement du dossier"
        verbose_name_plural = "historique des dossiers"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.dossier} : {self.get_from_status_display()} → {self.get_to_status_display()}"

    @property
    def titulaire_line(self) -> str:
        """The history row as the titulaire reads it (``display.history_line``)."""
        return display.history_line(self, display.TITULAIRE)

    @property
    def organisme_line(self) -> str:
        return display.history_line(self, display.ORGANISME)


class DossierAbondement(models.Model):
    """Complementary financing given to one dossier (employer, France Travail, région…)."""

    class Financeur(models.TextChoices):
        EMPLOYEUR = "employeur", "Employeur"
        FRANCE_TRAVAIL = "france_travail", "France Travail"
        REGION = "region", "Région"
        OPCO = "opco", "OPCO, branche ou accord de groupe"
        C2P = "c2p", "Points C2P (reconversion)"
        ATMP = "atmp", "Abondement AT/MP (incapacité d'au moins 10 %)"
        AUTRE = "autre", "Autre financeur"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="abondements")
    financeur = models.CharField("financeur", max_length=20, choices=Financeur)
    financeur_name = models.CharField("nom du financeur", max_length=200, blank=True)
    amount_cents = models.PositiveIntegerField("montant (centimes)")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="ajouté par"
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="ajouté le")

    class Meta:
        verbose_name = "abondement"
        constraints = [models.CheckConstraint(name="dossier_abondement_positive", condition=Q(amount_cents__gt=0))]

    def __str__(self):
        return f"{self.get_financeur_display()} : {euros(self.amount_cents)}"


def proof_path(instance, filename):
    return private_name("justificatifs", instance)


class ServiceProof(models.Model):
    """A proof of the training the organisme attaches to a dossier (attendance sheets,
    connection logs, certificat de réalisation), read by the operators who control it."""

    class Kind(models.TextChoices):
        EMARGEMENT = "emargement", "Feuilles d'émargement"
        CONNEXIONS = "connexions", "Relevé des connexions (formation à distance)"
        CERTIFICAT = "certificat", "Certificat de réalisation"
        AUTRE = "autre", "Autre justificatif"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="proofs")
    kind = models.CharField("type de justificatif", max_length=12, choices=Kind)
    file = models.FileField("fichier", upload_to=proof_path)
    content_type = models.CharField("type du fichier (d'après son contenu)", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    original_name = models.CharField("nom du fichier envoyé", max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par")
    created_at = models.DateTimeField("déposé le", default=timezone.now)

    class Meta:
        verbose_name = "justificatif du service fait"
        verbose_name_plural = "justificatifs du service fait"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.original_name}"
