from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cpf_portal.forms import CpfForm
from cpf_portal.money import to_cents
from cpf_portal.templatetags import euros
from financing.forms import SniffedFileMixin
from financing.services import THIRD_PARTY_FINANCEURS

from . import display
from .models import DossierAbondement, ServiceProof
from .workflow import ExitReason

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=kwargs.pop("help_text", "Format attendu : JJ/MM/AAAA"),
        **kwargs,
    )


class VersionForm(CpfForm):
    """Every action on a dossier carries the version it was shown at: a stale page (the
    dossier changed in between) is refused instead of acting on what the person did not see."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class AbondementForm(VersionForm):
    amount = forms.DecimalField(
        label="Montant de l'abondement (€)",
        min_value=Decimal("1"),
        max_value=Decimal("50000"),
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"min_value": "Le montant doit être d'au moins 1 €."},
    )


class CofinancingForm(AbondementForm):
    """A co-financing the titulaire declares on his draft (his employer's, his région's…)."""

    financeur = forms.ChoiceField(
        label="Qui cofinance votre formation ?",
        choices=[(value, label) for value, label in DossierAbondement.Financeur.choices if value in THIRD_PARTY_FINANCEURS],
    )
    financeur_name = forms.CharField(label="Nom du financeur", help_text="Exemple : Transports Lorrains SARL", max_length=200)
    field_order = ["financeur", "financeur_name", "amount", "version"]

    def setup_fields(self):
        self.fields["amount"].label = "Montant du cofinancement (€)"


class SaveToAccountForm(CpfForm):
    save_to_account = forms.BooleanField(label="Enregistrer ces informations dans mon compte", required=False, initial=True)


class FinancingConsentForm(VersionForm):
    consent = forms.BooleanField(label="J'accepte d'utiliser mon crédit CPF")
    expected_reste_a_payer_cents = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, reste_a_payer_cents: int = 0, **kwargs):
        self.reste_a_payer_cents = reste_a_payer_cents
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        consent = self.fields["consent"]
        if self.reste_a_payer_cents:
            consent.label = f"J'accepte de prendre en charge le reste à payer de {euros(self.reste_a_payer_cents)}."
            consent.help_text = "Le paiement par carte bancaire se fera en une fois après validation de l'organisme de formation."
        consent.error_messages["required"] = "Cochez la case pour accepter le financement de votre formation."


class CancelForm(VersionForm):
    reason = forms.CharField(label="Motif de l'annulation", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    force_majeure = forms.BooleanField(
        label="Je justifie d'un cas de force majeure (maladie, accident, décès d'un proche…)",
        help_text="Vous pourrez être invité à fournir un justificatif.",
        required=False,
    )


class ProposalForm(VersionForm):
    """« Valider »: the organisme's proposal; price, dates and duration may change."""

    price = forms.DecimalField(
        label="Prix TTC (€)",
        min_value=0,
        max_value=Decimal("100000"),
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"min_value": "Le prix ne peut pas être négatif."},
    )
    start_date = date_field("Date de début")
    end_date = date_field("Date de fin")
    duree_heures = forms.IntegerField(
        label="Durée totale (heures)",
        min_value=1,
        max_value=5000,
        error_messages={"min_value": "La durée doit être d'au moins 1 heure."},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", ValidationError("La date de fin doit suivre la date de début.", code="order"))
        return data

    def payload(self) -> dict:
        data = self.cleaned_data
        return {
            "price_cents": to_cents(data["price"]),
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "duree_heures": data["duree_heures"],
        }


REFUSAL_REASONS = [
    ("", "Sélectionnez un motif"),
    ("Session complète", "Session complète"),
    ("Prérequis non remplis", "Prérequis non remplis"),
    ("Formation inadaptée au projet du titulaire", "Formation inadaptée au projet du titulaire"),
    ("Session annulée ou reportée", "Session annulée ou reportée"),
    ("Autre motif", "Autre motif (précisez)"),
]


class RefusalForm(VersionForm):
    motive = forms.ChoiceField(label="Motif du refus", choices=REFUSAL_REASONS, error_messages={"required": "Indiquez le motif du refus."})
    details = forms.CharField(label="Précisions pour le titulaire", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("motive") == "Autre motif" and not (data.get("details") or "").strip():
            self.add_error("details", ValidationError("Précisez le motif.", code="required"))
        return data

    def reason(self) -> str:
        details = (self.cleaned_data.get("details") or "").strip()
        return f"{self.cleaned_data['motive']}{' : ' + details if details else ''}"


class OrganismeCancelForm(VersionForm):
    reason = forms.CharField(
        label="Motif de l'annulation",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Indiquez le motif de l'annulation."},
    )


class ServiceDoneForm(VersionForm):
    exit_reason = forms.ChoiceField(
        label="Motif de sortie", choices=ExitReason.choices, widget=forms.RadioSelect, error_messages={"required": "Indiquez le motif de sortie."}
    )
    completion_rate = forms.IntegerField(
        label="Taux de réalisation (%)",
        help_text="Part des heures effectivement suivies, de 0 à 100.",
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0", "max": "100"}),
    )
    exit_date = date_field("Date de sortie")
    force_majeure = forms.BooleanField(label="Abandon pour un cas de force majeure justifié", required=False)

    def clean(self):
        data = super().clean()
        if data.get("exit_reason") == ExitReason.COMPLETE and data.get("completion_rate") not in (None, 100):
            self.add_error("completion_rate", ValidationError("Une formation suivie en totalité est réalisée à 100 %.", code="complete"))
        if data.get("exit_date") and data["exit_date"] > timezone.localdate():
            self.add_error("exit_date", ValidationError("La date de sortie ne peut pas être dans le futur.", code="future"))
        return data


class InboxFilterForm(CpfForm):
    status = forms.ChoiceField(
        label="État",
        required=False,
        choices=[
            ("", "Tous les dossiers"),
            ("a_traiter", "À traiter (non traités)"),
            *display.ORGANISME_LABELS.items(),
        ],
    )


class ProofForm(SniffedFileMixin, CpfForm):
    """A proof of the training (PDF, JPEG or PNG, 5 Mo at most; the type read from the content)."""

    kind = forms.ChoiceField(label="Type de justificatif", choices=ServiceProof.Kind.choices)
    file = forms.FileField(label="Fichier (PDF, JPEG ou PNG, 5 Mo maximum)")

    def setup_fields(self):
        self.fields["file"].error_messages["required"] = "Choisissez le fichier du justificatif."
