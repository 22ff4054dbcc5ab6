import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils import timezone

from cpf_portal.forms import CpfForm
from cpf_portal.money import from_cents, to_cents

from . import cache
from .models import (
    ACTION_CONTACT_FIELDS,
    ACTION_TEACHING_FIELDS,
    ACTION_TYPES,
    REPERTORIES,
    Action,
    Certification,
    Formation,
    Modalite,
    Rythme,
    Session,
    Tva,
)
from .search import DURATIONS, MIN_RATINGS, RADIUS_CHOICES, SearchQuery, resolve_place

MAX_PRICE_EUROS = Decimal("100000")


class SearchForm(CpfForm):
    """« Rechercher une formation »: a GET form that works without JavaScript."""

    quoi = forms.CharField(
        label="Quelle formation ?",
        help_text="Un métier, une compétence. Exemple : anglais",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    ou = forms.CharField(
        label="Où ?",
        help_text="Commune ou code postal. Exemple : Metz",
        required=False,
        max_length=120,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "communes-suggestions", "data-cpf-communes": reverse_lazy("catalogue:commune-suggestions")}
        ),
    )
    rayon = forms.TypedChoiceField(
        label="Rayon autour de la commune",
        choices=[(r, f"{r} km") for r in RADIUS_CHOICES],
        coerce=int,
        initial=30,
        required=False,
    )
    a_distance = forms.BooleanField(label="Inclure les formations à distance", required=False, initial=True)
    prix_max = forms.DecimalField(
        label="Prix maximum (€)",
        required=False,
        min_value=0,
        max_value=MAX_PRICE_EUROS,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    duree = forms.ChoiceField(
        label="Durée",
        required=False,
        choices=[("", "Toutes les durées"), ("court", "Moins de 35 heures"), ("moyen", "De 35 à 150 heures"), ("long", "Plus de 150 heures")],
    )
    certification = forms.ChoiceField(
        label="Type d'action",
        required=False,
        choices=[("", "Tous les types"), *ACTION_TYPES.items()],
    )
    niveau = forms.ChoiceField(
        label="Niveau de sortie",
        required=False,
        choices=[("", "Tous les niveaux"), *Certification.Niveau.choices],
    )
    modalite = forms.ChoiceField(
        label="Modalité",
        required=False,
        choices=[("", "Toutes les modalités"), *Modalite.choices],
    )
    rythme = forms.ChoiceField(
        label="Rythme",
        required=False,
        choices=[("", "Tous les rythmes"), *Rythme.choices],
    )
    debut_apres = forms.DateField(
        label="Session débutant après le",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    debut_avant = forms.DateField(
        label="Session débutant avant le",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    tri = forms.ChoiceField(
        label="Trier par",
        required=False,
        choices=[("pertinence", "Pertinence"), ("distance", "Distance"), ("prix", "Prix croissant"), ("note", "Les mieux notées")],
    )
    note_min = forms.TypedChoiceField(
        label="Note minimale",
        required=False,
        choices=[("", "Toutes les notes"), *((value, f"{value} et plus") for value in sorted(MIN_RATINGS, reverse=True))],
        coerce=int,
        empty_value=None,
    )

    commune = None
    # On top of the page (and on the home page): « Quelle formation ? », « Où ? » and the
    # button; every other field is folded in « Affiner la recherche ».
    MAIN_FIELDS = ("quoi", "ou")
    # In the panel but not a filter: the order of the results.
    SORT_FIELD = "tri"

    def __init__(self, *args, generations=None, **kwargs):
        super().__init__(*args, **kwargs)
        # With the catalogue's generations, commune lookups come from the shared cache.
        self.generations = generations
        if self.is_bound and not self.data.get("rayon"):
            # A search without a radius (from the home page, a link) is at 30 km: the select
            # shows it, else the browser would show and send its first option.
            self.data = self.data.copy()
            self.data["rayon"] = str(self.fields["rayon"].initial)

    def setup_fields(self):
        # Every search field is optional: no « (Optionnel) » after each label.
        for field in self.fields.values():
            field.template_name = "components/field_unmarked.html"

    @property
    def main_fields(self) -> list:
        return [self[name] for name in self.MAIN_FIELDS]

    @property
    def refine_fields(self) -> list:
        """The fields of « Affiner la recherche », in the form's order."""
        return [self[name] for name in self.fields if name not in self.MAIN_FIELDS]

    @property
    def active_filters(self) -> list[str]:
        """The filters the query string sets away from their default. An empty value is the
        default (no price limit, « 30 km »…); only the « à distance » box counts when absent,
        as an unticked box sends nothing and excludes remote trainings."""
        if not self.is_bound:
            return []
        active = []
        for name, field in self.fields.items():
            if name in self.MAIN_FIELDS or name == self.SORT_FIELD:
                continue
            raw = self[name].data
            if raw in ("", None, []) and not isinstance(field, forms.BooleanField):
                continue
            if field.has_changed(self.get_initial_for_field(field, name), raw):
                active.append(name)
        return active

    @property
    def refine_open(self) -> bool:
        """« Affiner la recherche » is unfolded when one of its fields is set or wrong."""
        if not self.is_bound:
            return False
        sort = self[self.SORT_FIELD].data
        wrong = any(name in self.errors for name in self.fields if name not in self.MAIN_FIELDS)
        return bool(self.active_filters) or wrong or sort not in ("", None, "pertinence")

    def clean_ou(self):
        text = self.cleaned_data["ou"].strip()
        if text:
            self.commune = cache.resolve_place(text, self.generations) if self.generations else resolve_place(text)
            if self.commune is None:
                raise ValidationError(
                    "Nous ne trouvons pas cette commune : saisissez un nom de commune ou un code postal à 5 chiffres.",
                    code="unknown_place",
                )
        return text

    def clean(self):
        data = super().clean()
        after, before = data.get("debut_apres"), data.get("debut_avant")
        if after and before and before < after:
            self.add_error("debut_avant", ValidationError("Cette date doit suivre la date « débutant après le ».", code="order"))
        if data.get("tri") == "distance" and not data.get("ou"):
            self.add_error("tri", ValidationError("Indiquez une commune pour trier par distance.", code="distance_without_place"))
        return data

    def to_query(self, page: int) -> SearchQuery:
        data = self.cleaned_data
        price = data.get("prix_max")
        return SearchQuery(
            keywords=data.get("quoi") or "",
            commune=self.commune,
            radius_km=data.get("rayon") or 30,
            include_remote=bool(data.get("a_distance")),
            max_price_cents=to_cents(price) if price is not None else None,
            duration=data.get("duree") if data.get("duree") in DURATIONS else "",
            certification_type=data.get("certification") or "",
            niveau=data.get("niveau") or "",
            modalite=data.get("modalite") or "",
            rythme=data.get("rythme") or "",
            start_after=data.get("debut_apres"),
            start_before=data.get("debut_avant"),
            min_rating=data.get("note_min"),
            sort=data.get("tri") or "pertinence",
            page=page,
        )


class FormationForm(CpfForm, forms.ModelForm):
    """A formation of the organisme's catalogue (« Espace organisme »)."""

    code = forms.CharField(
        label="Code interne de la formation",
        help_text="Lettres, chiffres, « - » ou « _ ». Le numéro public sera votre SIRET suivi de ce code.",
        max_length=50,
        validators=[Formation._meta.get_field("numero").validators[0]],
    )
    certification_type = forms.ChoiceField(
        label="Type de certification ou d'action",
        required=False,
        choices=[("", "Aucune certification"), *[(value, label) for value, label in Certification.Type.choices if value != Certification.Type.AUTRE]],
    )
    certification_code = forms.CharField(label="Code de la certification", help_text="Exemple : 5367 pour RS5367", required=False, max_length=20)

    class Meta:
        model = Formation
        fields = [
            "intitule",
            "description",
            "objectifs",
            "contenu",
            "resultats_attendus",
            "domaine",
        ]
        labels = {"domaine": "Domaine (Formacode ou NSF)"}
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in ["description", "objectifs", "contenu", "resultats_attendus"]}

    def __init__(self, *args, organisme, **kwargs):
        self.organisme = organisme
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        if self.instance.pk:
            prefix = f"{self.organisme.siret}_"
            self.initial.setdefault("code", self.instance.numero.removeprefix(prefix))
            if self.instance.certification_id:
                self.initial.setdefault("certification_type", self.instance.certification.type)
                self.initial.setdefault("certification_code", self.instance.certification.code)

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        numero = f"{self.organisme.siret}_{code}"
        if Formation.objects.filter(numero=numero).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Vous avez déjà une formation avec ce code.", code="duplicate")
        return code

    def clean(self):
        data = super().clean()
        ctype, ccode = data.get("certification_type"), (data.get("certification_code") or "").strip().upper()
        if ctype in REPERTORIES and ccode.startswith(ctype):
            ccode = ccode[len(ctype) :]
        self.certification = None
        if ctype and not ccode:
            self.add_error("certification_code", ValidationError("Indiquez le code de la certification.", code="required"))
        elif ccode and not ctype:
            self.add_error("certification_type", ValidationError("Indiquez le type de la certification.", code="required"))
        elif ctype:
            self.certification = Certification.objects.filter(type=ctype, code=ccode).first()
            if self.certification is None:
                self.add_error(
                    "certification_code",
                    ValidationError("Cette certification n'est pas connue du répertoire : vérifiez le type et le code.", code="unknown"),
                )
        return data

    def _get_validation_exclusions(self):
        # numero and organisme are set by the service from the code and the staff's organisme.
        return {*super()._get_validation_exclusions(), "numero"}

    def apply(self) -> Formation:
        formation = self.instance
        formation.numero = f"{self.organisme.siret}_{self.cleaned_data['code']}"
        formation.certification = self.certification
        return formation


class ActionForm(CpfForm, forms.ModelForm):
    """An action of a formation: place, modality, rythm, duration, price, prérequis, contact."""

    lieu = forms.CharField(
        label="Commune du lieu de formation",
        help_text="Nom ou code postal. Exemple : Metz (57070). Sans objet pour une action à distance.",
        required=False,
        max_length=120,
        widget=forms.TextInput(
            attrs={"list": "communes-suggestions", "data-cpf-communes": reverse_lazy("catalogue:commune-suggestions"), "autocomplete": "off"}
        ),
    )
    prix = forms.DecimalField(
        label="Prix TTC (€)",
        help_text="Le prix hors taxe est calculé selon la TVA choisie.",
        min_value=0,
        max_value=MAX_PRICE_EUROS,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"min_value": "Le prix ne peut pas être négatif."},
    )
    rythmes = forms.MultipleChoiceField(label="Rythme", required=False, choices=Rythme.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Action
        fields = ["modalite", "address", *ACTION_TEACHING_FIELDS[1:], "tva", *ACTION_CONTACT_FIELDS]
        labels = {
            "address": "Adresse du lieu de formation",
            "duree_heures": "Durée indicative en heures",
            "heures_hebdo": "Durée hebdomadaire en heures",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in ["modalites_pedagogiques", "prerequis"]}

    def __init__(self, *args, formation, **kwargs):
        self.formation = formation
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        # Most trainings are exempt: a form sent without the field (an older page) keeps that.
        self.fields["tva"].required = False
        self.fields["tva"].help_text = "Vos prix sont TTC ; la TVA figure sur vos factures."
        self.fields["prerequis"].help_text = (
            f"Avec des prérequis, vous accusez réception d'une demande sous {settings.DOSSIER_ORGANISME_REPLY_WORKING_DAYS} jours ouvrés, "
            f"puis avez {settings.DOSSIER_PREREQUISITES_REPLY_DAYS} jours pour y répondre."
        )
        self.fields["modalites_pedagogiques"].help_text = "Exemple : cours en groupe de 8, ateliers pratiques, plateforme en ligne avec tuteur."
        self.fields["contact_email"].help_text = "Reçoit les nouvelles demandes d'inscription. À défaut, l'adresse de l'organisme."
        self.fields["heures_hebdo"].help_text = "Facultatif. Exemple : 7 pour une journée par semaine."
        for name, message in (
            ("duree_heures", "La durée doit être d'au moins 1 heure."),
            ("heures_hebdo", "La durée hebdomadaire doit être d'au moins 1 heure."),
        ):
            self.fields[name].min_value = 1
            self.fields[name].error_messages["min_value"] = message
            self.fields[name].widget.attrs.update({"min": "1", "inputmode": "numeric"})
        if self.instance.pk:
            self.initial.setdefault("prix", from_cents(self.instance.price_cents))
            if self.instance.commune_id:
                self.initial.setdefault("lieu", self.instance.place_label)

    def clean_tva(self):
        value = self.cleaned_data.get("tva")
        return Tva.EXONEREE if value in (None, "") else value

    def clean(self):
        data = super().clean()
        text = (data.get("lieu") or "").strip()
        self.commune = None
        if data.get("modalite") == Modalite.DISTANCE:
            return data
        if not text:
            self.add_error("lieu", ValidationError("Indiquez la commune où se déroule l'action (ou la modalité « À distance »).", code="required"))
        else:
            self.commune = resolve_place(text)
            if self.commune is None:
                self.add_error("lieu", ValidationError("Commune introuvable : saisissez un nom de commune ou un code postal.", code="unknown_place"))
        return data

    def apply(self) -> Action:
        action = self.instance
        action.formation = self.formation
        action.price_cents = to_cents(self.cleaned_data["prix"])
        action.commune = self.commune
        # « Metz (57070) » or « 57070 »: the place's own postal code, when its commune has several.
        typed = re.findall(r"\b\d{5}\b", self.cleaned_data.get("lieu") or "")
        action.postal_code = typed[-1] if self.commune and typed and typed[-1] in self.commune.postal_codes else ""
        if action.is_remote:
            action.address = ""
        return action


class SessionForm(CpfForm, forms.ModelForm):
    class Meta:
        model = Session
        fields = ["permanent_entry", "start_date", "end_date", "registration_opens", "registration_closes", "places", "reference"]
        labels = {
            "permanent_entry": "Entrée / sortie permanente",
            "places": "Nombre de places",
            "registration_opens": "Inscriptions à partir du",
            "registration_closes": "Inscriptions jusqu'au",
            "reference": "Votre code de la session",
        }
        widgets = {
            **{
                name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                for name in ("start_date", "end_date", "registration_opens", "registration_closes")
            },
            "places": forms.NumberInput(attrs={"min": "1", "inputmode": "numeric"}),
        }

    def __init__(self, *args, action, **kwargs):
        self.action = action
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        for name in ("start_date", "end_date", "registration_opens", "registration_closes"):
            self.fields[name].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        self.fields["registration_opens"].help_text = "Facultatif : les inscriptions sont ouvertes dès la publication."
        self.fields["registration_closes"].help_text = "Facultatif : à défaut, jusqu'à la fin de la session."
        self.fields["reference"].help_text = "Facultatif. Sert aux imports de catalogue : un nouvel import met à jour cette session."
        self.fields["places"].validators.append(MinValueValidator(1, message="Assurez-vous que cette valeur est supérieure ou égale à 1."))

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if not data.get("permanent_entry"):
            if not start and "start_date" not in self.errors:
                self.add_error(
                    "start_date", ValidationError("Indiquez la date de début (ou cochez « Entrée / sortie permanente »).", code="required")
                )
            if not end and "end_date" not in self.errors:
                self.add_error("end_date", ValidationError("Indiquez la date de fin.", code="required"))
        if start and end and end < start:
            self.add_error("end_date", ValidationError("La date de fin doit être postérieure ou égale à la date de début.", code="order"))
        if start and not self.instance.pk and start < timezone.localdate():
            self.add_error("start_date", ValidationError("La date de début ne peut pas être passée.", code="past"))
        opens, closes = data.get("registration_opens"), data.get("registration_closes")
        if opens and closes and closes < opens:
            self.add_error("registration_closes", ValidationError("La fin des inscriptions doit suivre leur ouverture.", code="order"))
        if closes and end and closes > end:
            self.add_error(
                "registration_closes", ValidationError("Les inscriptions se terminent au plus tard le dernier jour de la session.", code="after_end")
            )
        return data

    def apply(self) -> Session:
        session = self.instance.follow(self.action)
        if self.cleaned_data.get("permanent_entry") and not (self.cleaned_data.get("start_date") and self.cleaned_data.get("end_date")):
            session.start_date = session.end_date = None
        return session


class CatalogueFilterForm(CpfForm):
    """« Mon catalogue »: the list and its session exports, filtered alike."""

    q = forms.CharField(label="Intitulé ou numéro", required=False, max_length=100)
    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "Toutes les formations"), ("publiees", "Publiées"), ("desactivees", "Désactivées")],
    )

    def filter(self, formations):
        """``formations`` narrowed by the valid filters (a Formation queryset)."""
        data = self.cleaned_data if self.is_valid() else {}
        if query := (data.get("q") or "").strip():
            formations = formations.filter(Q(intitule__icontains=query) | Q(numero__icontains=query))
        if data.get("etat"):
            formations = formations.filter(active=data["etat"] == "publiees")
        return formations


class OfferImportForm(CpfForm):
    file = forms.FileField(
        label="Fichier du catalogue",
        help_text="CSV (séparateur « ; », UTF-8) ou XML au format LHÉO, éventuellement compressé en zip ; 20 Mo au plus.",
        error_messages={"required": "Choisissez le fichier de votre catalogue.", "empty": "Ce fichier est vide."},
    )
