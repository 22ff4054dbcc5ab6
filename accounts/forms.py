import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cpf_portal.forms import CpfForm
from notifications.services import email_queue

from . import nir as nir_lib
from . import phones
from .models import ContactRequest, User

MIN_AGE = 16
MIN_AGE_APPRENTICE = 15
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def password_help_text() -> str:
    """The portal's rules in one sentence, from the same settings as the validators."""
    kinds = ["une lettre minuscule", "une lettre majuscule", "un chiffre"]
    if settings.CPF_PASSWORD_REQUIRE_SPECIAL:
        kinds.append("un caractère spécial")
    return (
        f"Au moins {settings.CPF_PASSWORD_MIN_LENGTH} caractères, dont "
        + ", ".join(kinds[:-1])
        + f" et {kinds[-1]}. Évitez un mot de passe courant ou proche de votre nom."
    )


def check_new_password(form, data: dict, *, email: str) -> None:
    """The rules on the « password » and « password_confirm » fields of a form creating an account."""
    password, password_confirm = data.get("password"), data.get("password_confirm")
    if not password:
        return
    candidate = User(email=email, first_name=data.get("first_name") or "", last_name=data.get("last_name") or "")
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as error:
        form.add_error("password", error)
    if password_confirm is not None and password != password_confirm:
        form.add_error("password_confirm", ValidationError("Les deux mots de passe ne sont pas identiques.", code="password_mismatch"))


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _email_taken(email: str, exclude_pk=None) -> bool:
    qs = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


class SignupForm(CpfForm):
    nir = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="13 caractères + la clé à 2 chiffres. Exemple : 2 95 10 99 126 111 93",
        max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    last_name = forms.CharField(label="Nom de naissance", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    first_name = forms.CharField(label="Prénom", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    birth_date = forms.DateField(
        label="Date de naissance",
        help_text="Format attendu : JJ/MM/AAAA",
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Format attendu : nom@domaine.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    email_confirm = forms.EmailField(
        label="Confirmation de l'adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(label="Mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    apprenticeship_contract = forms.BooleanField(
        label="J'ai signé un contrat d'apprentissage",
        help_text="À cocher si vous avez moins de 16 ans.",
        required=False,
    )
    cgu = forms.BooleanField(
        label="J'ai lu et j'accepte les conditions générales d'utilisation",
        error_messages={"required": "Vous devez accepter les conditions générales d'utilisation pour créer votre compte."},
    )

    nir_info: nir_lib.NirInfo | None = None

    def setup_fields(self):
        self.fields["password"].help_text = password_help_text()

    # A NIR or an e-mail that already has an account is not refused here: that would tell
    # anyone who has an account. The signup answers as for a new one and the owner is told.
    def clean_nir(self):
        self.nir_info = nir_lib.validate(self.cleaned_data["nir"])
        return self.nir_info.nir

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if birth_date > today:
            raise ValidationError("La date de naissance ne peut pas être dans le futur.", code="future")
        if birth_date.year < 1900:
            raise ValidationError("Vérifiez l'année de naissance.", code="too_old")
        return birth_date

    def clean(self):
        data = super().clean()
        email, email_confirm = data.get("email"), data.get("email_confirm")
        if email and email_confirm and email != email_confirm.strip().lower():
            self.add_error("email_confirm", ValidationError("Les deux adresses électroniques ne sont pas identiques.", code="email_mismatch"))

        birth_date = data.get("birth_date")
        if birth_date and self.nir_info:
            try:
                nir_lib.check_birth_date(self.nir_info, birth_date)
            except ValidationError as error:
                self.add_error("birth_date", error)
        if birth_date and "birth_date" not in self.errors:
            age = age_on(birth_date, timezone.localdate())
            if data.get("apprenticeship_contract"):
                if age < MIN_AGE_APPRENTICE:
                    self.add_error(
                        "birth_date",
                        ValidationError(
                            "Il faut avoir au moins %(min)s ans pour ouvrir un compte, même avec un contrat d'apprentissage.",
                            code="too_young",
                            params={"min": MIN_AGE_APPRENTICE},
                        ),
                    )
            elif age < MIN_AGE:
                self.add_error(
                    "birth_date",
                    ValidationError(
                        "Il faut avoir au moins %(min)s ans pour ouvrir un compte, sauf si vous avez signé un contrat "
                        "d'apprentissage (cochez alors la case prévue).",
                        code="too_young",
                        params={"min": MIN_AGE},
                    ),
                )

        check_new_password(self, data, email=data.get("email") or "")
        return data


class ActivationForm(CpfForm):
    code = forms.CharField(
        label="Code reçu par courriel",
        help_text="6 chiffres",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}),
        error_messages={
            "required": "Saisissez le code à 6 chiffres reçu par courriel.",
            "min_length": "Le code compte 6 chiffres.",
            "max_length": "Le code compte 6 chiffres.",
        },
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise ValidationError("Le code ne contient que des chiffres.", code="digits")
        return code


class LoginForm(CpfForm, auth_forms.AuthenticationForm):
    username = forms.CharField(
        label="Numéro de sécurité sociale ou adresse électronique",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(label="Mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect.",
        "inactive": "Ce compte est suspendu. Contactez l'assistance.",
        "not_activated": "Votre compte n'est pas encore activé : saisissez le code reçu par courriel.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_activated:
            raise ValidationError(self.error_messages["not_activated"], code="not_activated")


class PasswordResetForm(CpfForm, auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="L'adresse de votre compte. Si elle est connue, vous recevrez un lien pour choisir un nouveau mot de passe.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None):
        link = reverse("accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        email_queue(
            to=to_email,
            user=context.get("user"),
            template="accounts/emails/password_reset",
            context={"user": context.get("user")},
            secrets={"reset_url": f"{context['protocol']}://{context['domain']}{link}"},
        )


class SetPasswordForm(CpfForm, auth_forms.SetPasswordForm):
    def setup_fields(self):
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password1"].help_text = password_help_text()
        self.fields["new_password2"].label = "Confirmation du nouveau mot de passe"


class PasswordChangeForm(CpfForm, auth_forms.PasswordChangeForm):
    def setup_fields(self):
        self.fields["old_password"].label = "Mot de passe actuel"
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password1"].help_text = password_help_text()
        self.fields["new_password2"].label = "Confirmation du nouveau mot de passe"


class ProfessionalInfoForm(CpfForm, forms.ModelForm):
    """« Mes informations professionnelles » (also reused by the dossier)."""

    class Meta:
        model = User
        fields = ["diploma", "diploma_year", "socio_professional_category", "employment_status"]
        labels = {
            "diploma": "Diplôme le plus élevé obtenu",
            "diploma_year": "Année d'obtention",
            "socio_professional_category": "Catégorie socio-professionnelle",
            "employment_status": "Situation professionnelle",
        }
        help_texts = {"diploma_year": "Format attendu : AAAA. Sans objet si vous n'avez pas de diplôme."}
        widgets = {"diploma_year": forms.NumberInput(attrs={"inputmode": "numeric"})}

    def setup_fields(self):
        for name in ("diploma", "socio_professional_category", "employment_status"):
            field = self.fields[name]
            field.required = True
            field.choices = [("", "Sélectionnez une option")] + [c for c in field.choices if c[0]]
        self.fields["diploma"].error_messages["required"] = "Indiquez votre diplôme le plus élevé (ou « Sans diplôme »)."
        self.fields["socio_professional_category"].error_messages["required"] = "Indiquez votre catégorie socio-professionnelle."
        self.fields["employment_status"].error_messages["required"] = "Indiquez votre situation professionnelle."

    def clean(self):
        data = super().clean()
        diploma, year = data.get("diploma"), data.get("diploma_year")
        if diploma and diploma != "sans" and not year:
            self.add_error("diploma_year", ValidationError("Indiquez l'année d'obtention de votre diplôme.", code="required"))
        if diploma == "sans":
            data["diploma_year"] = None
        if year:
            this_year = timezone.localdate().year
            birth_year = self.instance.birth_date.year if self.instance.birth_date else 1900
            if year > this_year:
                self.add_error("diploma_year", ValidationError("L'année d'obtention ne peut pas être dans le futur.", code="future"))
            elif year < birth_year + 10:
                self.add_error("diploma_year", ValidationError("L'année d'obtention est antérieure à vos 10 ans : vérifiez-la.", code="too_early"))
        return data


class PersonalInfoForm(CpfForm, forms.ModelForm):
    """« Mes informations personnelles »: identity, phones, e-mail and postal address."""

    email_confirm = forms.EmailField(
        label="Confirmation du courriel",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta:
        model = User
        fields = [
            "first_name",
            "usage_name",
            "last_name",
            "phone_mobile",
            "phone_landline",
            "email",
            "street_number",
            "street_repetition",
            "street_type",
            "street_name",
            "address_complement",
            "locality",
            "postal_code",
            "city",
        ]
        labels = {
            "first_name": "Prénom",
            "usage_name": "Nom d'usage",
            "last_name": "Nom de naissance",
            "phone_mobile": "Téléphone mobile",
            "phone_landline": "Téléphone fixe",
            "email": "Courriel",
            "street_number": "Numéro de voie",
            "street_repetition": "Indice de répétition",
            "street_type": "Type de voie",
            "street_name": "Libellé de la voie",
            "address_complement": "Complément d'adresse",
            "locality": "Lieu-dit",
            "postal_code": "Code postal",
            "city": "Ville",
        }
        help_texts = {
            "phone_mobile": "Un des deux numéros doit être renseigné. Exemple : 06 12 34 56 78",
            "phone_landline": "Exemple : 03 87 12 34 56",
            "address_complement": "Bâtiment, escalier, appartement…",
            "postal_code": "5 chiffres",
            "email": "Format attendu : nom@domaine.fr",
        }
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone_mobile": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
            "phone_landline": forms.TextInput(attrs={"inputmode": "tel", "type": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "street_number": forms.TextInput(attrs={"inputmode": "numeric"}),
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "street_name": forms.TextInput(attrs={"autocomplete": "address-line1"}),
        }

    ADDRESS_REQUIRED = ("street_name", "postal_code", "city")

    def setup_fields(self):
        for name in ("first_name", "last_name", "email", *self.ADDRESS_REQUIRED):
            self.fields[name].required = True
        for name in ("phone_mobile", "phone_landline"):
            # Typed with spaces, dots or +33; the ten digits are checked once normalised.
            field = self.fields[name]
            field.max_length = 25
            field.validators = []
            field.widget.attrs["maxlength"] = "25"
        for name in ("street_repetition", "street_type"):
            field = self.fields[name]
            field.choices = [("", "Aucun" if name == "street_repetition" else "Sélectionnez une option")] + [c for c in field.choices if c[0]]
        if self.instance.pk and not self.is_bound:
            self.initial.setdefault("email_confirm", self.instance.email)
        # Order: the confirmation right after the e-mail field.
        order = list(self.fields)
        order.remove("email_confirm")
        order.insert(order.index("email") + 1, "email_confirm")
        self.order_fields(order)

    def _get_validation_exclusions(self):
        # The e-mail's case-insensitive uniqueness is checked in clean_email, next to the field.
        return {*super()._get_validation_exclusions(), "email"}

    def _clean_phone(self, name, validator):
        value = phones.normalize(self.cleaned_data.get(name, ""))
        if value:
            validator(value)
        return value

    def clean_phone_mobile(self):
        return self._clean_phone("phone_mobile", phones.validate_mobile)

    def clean_phone_landline(self):
        return self._clean_phone("phone_landline", phones.validate_landline)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise ValidationError("Un compte existe déjà avec cette adresse électronique.", code="email_taken")
        return email

    def clean_street_number(self):
        value = self.cleaned_data.get("street_number", "").strip()
        if value and not value.isdigit():
            raise ValidationError("Le numéro de voie ne contient que des chiffres (l'indice bis, ter… se choisit à part).", code="digits")
        return value

    def clean_postal_code(self):
        value = self.cleaned_data.get("postal_code", "").replace(" ", "")
        if value and not (value.isdigit() and len(value) == 5):
            raise ValidationError("Le code postal compte 5 chiffres.", code="postal_code")
        return value

    def clean(self):
        data = super().clean()
        phones_valid = "phone_mobile" not in self.errors and "phone_landline" not in self.errors
        if phones_valid and not data.get("phone_mobile") and not data.get("phone_landline"):
            self.add_error("phone_mobile", ValidationError("Un des deux numéros doit être renseigné.", code="phone_required"))
        email, confirm = data.get("email"), data.get("email_confirm")
        if email and confirm and email != confirm.strip().lower():
            self.add_error("email_confirm", ValidationError("Les deux courriels ne sont pas identiques.", code="email_mismatch"))
        if data.get("street_repetition") and not data.get("street_number"):
            self.add_error("street_number", ValidationError("Indiquez le numéro de voie qui précède l'indice de répétition.", code="required"))
        return data

    def profile_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ContactForm(CpfForm):
    name = forms.CharField(label="Nom et prénom", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Pour vous répondre. Format attendu : nom@domaine.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.ChoiceField(label="Objet de votre demande", choices=[("", "Sélectionnez un objet"), *ContactRequest.Subject.choices])
    dossier_numero = forms.CharField(
        label="Numéro de dossier", help_text="10 chiffres, s'il s'agit d'un dossier de formation", required=False, max_length=14
    )
    message = forms.CharField(
        label="Votre message",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="3 000 caractères au plus. Ne communiquez jamais votre mot de passe.",
    )

    def clean_dossier_numero(self):
        value = self.cleaned_data["dossier_numero"].replace(" ", "")
        if value and not (value.isdigit() and len(value) == 10):
            raise ValidationError("Le numéro de dossier compte 10 chiffres.", code="numero")
        return value

    def clean_message(self):
        value = self.cleaned_data["message"].strip()
        if len(value) < 10:
            raise ValidationError("Décrivez votre demande en quelques mots (10 caractères au moins).", code="short")
        return value


class OtpCodeForm(CpfForm):
    code = forms.CharField(
        label="Code de vérification",
        help_text="Les 6 chiffres affichés par votre application d'authentification, ou un de vos codes de secours.",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false", "autocapitalize": "off"}),
        error_messages={"required": "Saisissez le code affiché par votre application d'authentification."},
    )
