import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The criteria of the real portal's evaluation, in its order: (field, label, question).
CRITERIA = (
    ("accueil", "Accueil", "L'accueil et l'information avant et pendant la formation"),
    ("contenu", "Contenu", "Le contenu de la formation, au regard de ce qui était annoncé"),
    ("equipe", "Équipe pédagogique", "Les formateurs et l'équipe pédagogique"),
    ("moyens", "Moyens", "Les moyens matériels et pédagogiques (locaux, supports, outils à distance)"),
    ("accompagnement", "Accompagnement", "Le suivi et l'accompagnement pendant la formation"),
)
CRITERIA_FIELDS = tuple(name for name, _, _ in CRITERIA)
STARS = range(1, 6)


class Moderation(models.TextChoices):
    NONE = "none", "Sans commentaire"
    PENDING = "pending", "En attente"
    PUBLISHED = "published", "Publié"
    REFUSED = "refused", "Refusé"


class EvaluationQuerySet(models.QuerySet):
    def for_organisme(self, organisme):
        return self.filter(organisme=organisme)

    def published(self):
        """The comments anyone may read (published by an operator)."""
        return self.filter(moderation=Moderation.PUBLISHED)


def _stars(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, choices=[(n, f"{n} sur 5") for n in STARS])


class Evaluation(models.Model):
    """A titulaire's evaluation of the training of one dossier, once the training ended. Its
    stars count at once in the formation's rating; its comment is public only once an
    operator published it. No identity is ever shown with it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dossier = models.OneToOneField("dossiers.Dossier", on_delete=models.PROTECT, related_name="evaluation")
    # Copies of the dossier's, so that a formation's or an organisme's ratings read one table.
    formation = models.ForeignKey("catalogue.Formation", on_delete=models.PROTECT, related_name="evaluations")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.PROTECT, related_name="evaluations")
    accueil = _stars("accueil")
    contenu = _stars("contenu")
    equipe = _stars("équipe pédagogique")
    moyens = _stars("moyens")
    accompagnement = _stars("accompagnement")
    training_confirmed = models.BooleanField("formation suivie (confirmée par le titulaire)")
    comment = models.TextField("commentaire", blank=True)
    moderation = models.CharField("modération du commentaire", max_length=10, choices=Moderation.choices, default=Moderation.NONE)
    refusal_reason = models.TextField("motif du refus", blank=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    moderated_at = models.DateTimeField("modéré le", null=True, blank=True)
    created_at = models.DateTimeField("déposée le", default=timezone.now)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = "évaluation"
        ordering = ["-created_at", "-id"]
        indexes = [
            # A formation's published comments, newest first (its page).
            models.Index(fields=["formation", "moderation", "-created_at"], name="evaluation_formation_idx"),
            models.Index(fields=["organisme", "moderation", "-created_at"], name="evaluation_organisme_idx"),
            # The operators' queue.
            models.Index(fields=["created_at"], condition=Q(moderation=Moderation.PENDING), name="evaluation_pending_idx"),
        ]
        constraints = [
            *(
                models.CheckConstraint(name=f"evaluation_{name}_1_to_5", condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}))
                for name in CRITERIA_FIELDS
            ),
            models.CheckConstraint(name="evaluation_training_confirmed", condition=Q(training_confirmed=True)),
            models.CheckConstraint(name="evaluation_moderation_known", condition=Q(moderation__in=Moderation.values)),
            # A comment is moderated; no comment, nothing to moderate.
            models.CheckConstraint(
                name="evaluation_comment_moderated",
                condition=(Q(comment="") & Q(moderation=Moderation.NONE)) | (~Q(comment="") & ~Q(moderation=Moderation.NONE)),
            ),
            models.CheckConstraint(name="evaluation_refusal_has_reason", condition=~Q(moderation=Moderation.REFUSED) | ~Q(refusal_reason="")),
        ]

    def __str__(self):
        return f"Évaluation du {timezone.localtime(self.created_at):%d/%m/%Y} ({self.overall_label})"

    @property
    def stars(self) -> list[tuple[str, int]]:
        """(criterion label, stars) in the portal's order."""
        return [(label, getattr(self, name)) for name, label, _ in CRITERIA]

    @property
    def overall(self) -> float:
        return sum(getattr(self, name) for name in CRITERIA_FIELDS) / len(CRITERIA_FIELDS)

    @property
    def overall_label(self) -> str:
        return f"{self.overall:.1f}".replace(".", ",") + " / 5"
