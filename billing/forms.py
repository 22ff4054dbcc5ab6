from django import forms
from django.core.exceptions import ValidationError

from cpf_portal.forms import CpfForm

from . import services
from .models import Invoice


class BankAccountForm(CpfForm):
    holder = forms.CharField(label="Titulaire du compte", max_length=70, help_text="Tel qu'il figure sur le relevé d'identité bancaire (RIB).")
    iban = forms.CharField(label="IBAN", max_length=42, help_text="Par exemple FR76 3000 4000 0100 0012 3456 789")
    bic = forms.CharField(label="BIC", max_length=11, help_text="8 ou 11 caractères, par exemple BNPAFRPPXXX")

    def setup_fields(self):
        self.fields["holder"].error_messages["required"] = "Indiquez le titulaire du compte."
        self.fields["iban"].error_messages["required"] = "Indiquez l'IBAN."
        self.fields["bic"].error_messages["required"] = "Indiquez le BIC."

    def clean_iban(self):
        try:
            return services.clean_iban(self.cleaned_data["iban"])
        except services.BillingError as error:
            raise ValidationError(error.message) from None

    def clean(self):
        data = super().clean()
        if data.get("iban") and data.get("bic"):
            try:
                data["bic"] = services.clean_bic(data["bic"], data["iban"])
            except services.BillingError as error:
                self.add_error("bic", error.message)
        return data


class CreditNoteForm(CpfForm):
    reason = forms.CharField(label="Motif de l'avoir", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def setup_fields(self):
        self.fields["reason"].error_messages["required"] = "Indiquez le motif de l'avoir."


class InvoiceFilterForm(CpfForm):
    status = forms.ChoiceField(
        label="État", required=False, choices=[("", "Tous les états"), ("late", "En retard de paiement"), *Invoice.Status.choices]
    )
    kind = forms.ChoiceField(label="Type", required=False, choices=[("", "Factures et avoirs"), *Invoice.Kind.choices])
    issued_from = forms.DateField(label="Émise à partir du", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    issued_to = forms.DateField(label="Émise jusqu'au", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def setup_fields(self):
        for field in self.fields.values():
            field.help_text = field.help_text or ""

    def clean(self):
        data = super().clean()
        if data.get("issued_from") and data.get("issued_to") and data["issued_to"] < data["issued_from"]:
            self.add_error("issued_to", "Cette date doit suivre la première.")
        return data
