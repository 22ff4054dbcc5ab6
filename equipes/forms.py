from django import forms

from accounts.forms import check_new_password, password_help_text
from cpf_portal.forms import CpfForm

from .models import ROLE_HINTS, TeamRole


def _role_field(label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=[(role.value, f"{role.label} ({ROLE_HINTS[role]})") for role in TeamRole],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un rôle."},
    )


class InviteForm(CpfForm):
    email = forms.EmailField(
        label="Adresse électronique de la personne",
        help_text="Elle recevra un lien personnel, valable 7 jours et utilisable une fois.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": "Saisissez l'adresse électronique de la personne à inviter.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
        },
    )
    roles = _role_field("Rôles")


class RolesForm(CpfForm):
    roles = _role_field("Rôles")


class AccountForm(CpfForm):
    """The account of an invitee who has none yet."""

    first_name = forms.CharField(label="Prénom", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label="Nom", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    password = forms.CharField(label="Mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(
        label="Confirmation du mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        self.fields["password"].help_text = password_help_text()

    def clean(self):
        data = super().clean()
        check_new_password(self, data, email=self.email)
        return data
