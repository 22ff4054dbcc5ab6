from django import forms
from django.core.exceptions import ValidationError

from cpf_portal.forms import CpfForm


class DeleteAccountForm(CpfForm):
    password = forms.CharField(
        label="Mot de passe",
        help_text="Pour confirmer qu'il s'agit bien de vous.",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="Je comprends que mes données personnelles seront effacées définitivement",
        error_messages={"required": "Cochez la case pour confirmer la suppression."},
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("Mot de passe incorrect.", code="password")
        return password
