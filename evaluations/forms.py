from django import forms

from cpf_portal.forms import CpfForm

from .models import CRITERIA
from .services import COMMENT_MAX_LENGTH

STAR_CHOICES = [(1, "1 étoile"), (2, "2 étoiles"), (3, "3 étoiles"), (4, "4 étoiles"), (5, "5 étoiles")]
REQUIRED = "Choisissez de 1 à 5 étoiles pour ce critère."
QUESTIONS = {name: (label, question) for name, label, question in CRITERIA}


class InlineRadioSelect(forms.RadioSelect):
    """DSFR radios side by side (django-dsfr reads ``inline``; its name picks the template)."""

    inline = True


def stars(name: str) -> forms.TypedChoiceField:
    label, question = QUESTIONS[name]
    return forms.TypedChoiceField(
        label=label,
        help_text=question,
        choices=STAR_CHOICES,
        coerce=int,
        widget=InlineRadioSelect,
        error_messages={"required": REQUIRED, "invalid_choice": REQUIRED},
    )


class EvaluationForm(CpfForm):
    """« Évaluer ma formation »: the confirmation that the training took place, a group of
    five radio buttons (1 to 5 stars) per criterion, an optional comment."""

    training_confirmed = forms.BooleanField(
        label="Je confirme avoir suivi cette formation",
        error_messages={"required": "Cochez cette case pour confirmer que vous avez suivi cette formation."},
    )
    accueil = stars("accueil")
    contenu = stars("contenu")
    equipe = stars("equipe")
    moyens = stars("moyens")
    accompagnement = stars("accompagnement")
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

    @property
    def scores(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in QUESTIONS}
