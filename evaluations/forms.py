from django import forms

from cpf_portal.forms import CpfForm

from .models import CRITERIA
from .services import COMMENT_MAX_LENGTH

STAR_CHOICES = [(1, "1 étoile"), (2, "2 étoiles"), (3, "3 étoiles"), (4, "4 étoiles"), (5, "5 étoiles")]
REQUIRED = "Choisissez de 1 à 5 étoiles pour ce critère."


class StarsWidget(forms.RadioSelect):
    inline = True


class EvaluationForm(CpfForm):
    """« Évaluer ma formation »: a group of five radio buttons (1 to 5 stars) per criterion,
    the confirmation that the training took place, an optional comment."""

    training_confirmed = forms.BooleanField(
        label="Je confirme avoir suivi cette formation",
        error_messages={"required": "Cochez cette case pour confirmer que vous avez suivi cette formation."},
    )
    comment = forms.CharField(
        label="Votre commentaire (facultatif)",
        help_text=(
            "Il sera publié sans votre nom, après relecture par nos équipes. "
            f"N'y mettez aucune information personnelle. {COMMENT_MAX_LENGTH} caractères au plus."
        ),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"Votre commentaire dépasse {COMMENT_MAX_LENGTH} caractères."},
    )

    def setup_fields(self):
        stars = {
            name: forms.TypedChoiceField(
                label=label,
                help_text=question,
                choices=STAR_CHOICES,
                coerce=int,
                widget=StarsWidget,
                error_messages={"required": REQUIRED, "invalid_choice": REQUIRED},
            )
            for name, label, question in CRITERIA
        }
        confirmed, comment = self.fields["training_confirmed"], self.fields["comment"]
        self.fields = {"training_confirmed": confirmed, **stars, "comment": comment}

    @property
    def scores(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name, _, _ in CRITERIA}
