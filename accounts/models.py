import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from . import nir as nir_lib
from . import phones


class Role(models.TextChoices):
    TITULAIRE = "titulaire", "Titulaire"
    ORGANISME = "organisme", "Personnel d'organisme de formation"
    CONSEILLER = "conseiller", "Conseiller (interlocuteur des titulaires)"
    OPERATEUR = "operateur", "Opérateur (administration)"


class Diploma(models.TextChoices):
    NONE = "sans", "Sans diplôme"
    CAP_BEP = "niv3", "CAP, BEP (niveau 3)"
    BAC = "niv4", "Baccalauréat, brevet professionnel (niveau 4)"
    BAC2 = "niv5", "Bac + 2 : BTS, DUT, DEUG (niveau 5)"
    BAC3 = "niv6", "Bac + 3 ou 4 : licence, BUT, maîtrise (niveau 6)"
    BAC5 = "niv7", "Bac + 5 : master, diplôme d'ingénieur (niveau 7)"
    DOCTORAT = "niv8", "Doctorat (niveau 8)"


class SocioProfessionalCategory(models.TextChoices):
    AGRICULTEUR = "1", "Agriculteur exploitant"
    ARTISAN = "2", "Artisan, commerçant, chef d'entreprise"
    CADRE = "3", "Cadre, profession intellectuelle supérieure"
    INTERMEDIAIRE = "4", "Profession intermédiaire"
    EMPLOYE = "5", "Employé"
    OUVRIER = "6", "Ouvrier"
    SANS_ACTIVITE = "8", "Sans activité professionnelle"


class EmploymentStatus(models.TextChoices):
    SALARIE = "salarie", "Salarié du secteur privé"
    DEMANDEUR_EMPLOI = "demandeur_emploi", "Demandeur d'emploi"
    INDEPENDANT = "independant", "Travailleur indépendant, profession libérale"
    AGENT_PUBLIC = "agent_public", "Agent de la fonction publique"
    AUTRE = "autre", "Autre situation"


class StreetRepetition(models.TextChoices):
    BIS = "B", "bis"
    TER = "T", "ter"
    QUATER = "Q", "quater"
    QUINQUIES = "C", "quinquies"


class StreetType(models.TextChoices):
    RUE = "RUE", "Rue"
    AVENUE = "AV", "Avenue"
    BOULEVARD = "BD", "Boulevard"
    PLACE = "PL", "Place"
    CHEMIN = "CHE", "Chemin"
    ALLEE = "ALL", "Allée"
    IMPASSE = "IMP", "Impasse"
    ROUTE = "RTE", "Route"
    QUAI = "QU", "Quai"
    COURS = "CRS", "Cours"
    SQUARE = "SQ", "Square"
    LOTISSEMENT = "LOT", "Lotissement"
    RESIDENCE = "RES", "Résidence"
    HAMEAU = "HAM", "Hameau"
    FAUBOURG = "FG", "Faubourg"
    PASSAGE = "PAS", "Passage"
    AUTRE = "AUT", "Autre"


ADDRESS_FIELDS = ("street_number", "street_repetition", "street_type", "street_name", "address_complement", "locality", "postal_code", "city")


def address_lines(data) -> list[str]:
    """A postal address as it is written on an envelope, from the fields of « Mes
    informations personnelles » (an account, or the copy a dossier keeps for its organisme):
    « 12 bis rue Serpenoise », « Appartement 3 », « 57000 Metz ». The type of street is part
    of the street (« rue », « avenue »…), lower case as in the middle of an address."""
    street_type = data.get("street_type") or ""
    repetition = data.get("street_repetition") or ""
    street_name = (data.get("street_name") or "").strip()
    type_label = StreetType(street_type).label.lower() if street_type in StreetType.values and street_type != StreetType.AUTRE else ""
    if type_label and street_name.lower().startswith(type_label + " "):
        type_label = ""  # « Rue » chosen and « rue Serpenoise » typed: said once
    street = " ".join(
        part
        for part in (
            (data.get("street_number") or "").strip(),
            StreetRepetition(repetition).label if repetition in StreetRepetition.values else "",
            type_label,
            street_name,
        )
        if part
    )
    town = f"{data.get('postal_code') or ''} {data.get('city') or ''}".strip()
    lines = [street, data.get("address_complement") or "", data.get("locality") or "", town]
    return [line.strip() for line in lines if line and line.strip()]


class Structure(models.Model):
    """An interlocuteur of the titulaires: conseil en évolution professionnelle, France
    Travail, mission locale, Cap Emploi, APEC (« Mes interlocuteurs »)."""

    class Type(models.TextChoices):
        CEP = "cep", "Conseil en évolution professionnelle (CEP)"
        FRANCE_TRAVAIL = "france_travail", "France Travail"
        MISSION_LOCALE = "mission_locale", "Mission locale"
        CAP_EMPLOI = "cap_emploi", "Cap Emploi"
        APEC = "apec", "APEC"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    type = models.CharField("type", max_length=20, choices=Type)
    name = models.CharField("nom", max_length=200)
    audience = models.CharField("pour qui", max_length=200, blank=True)
    address = models.CharField("adresse", max_length=200)
    postal_code = models.CharField("code postal", max_length=5)
    city = models.CharField("ville", max_length=100)
    commune = models.ForeignKey("catalogue.Commune", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="commune")
    departement = models.CharField("département", max_length=3, db_index=True)
    phone = models.CharField("téléphone", max_length=10, blank=True)
    email = models.EmailField("courriel", blank=True)
    website = models.URLField("site internet", blank=True)
    opening_hours = models.CharField("horaires", max_length=200, blank=True)

    class Meta:
        verbose_name = "structure d'accompagnement"
        verbose_name_plural = "structures d'accompagnement"
        ordering = ["departement", "type", "name"]
        constraints = [models.UniqueConstraint(fields=["type", "name", "postal_code"], name="accounts_structure_unique")]

    def __str__(self):
        return f"{self.name} ({self.get_type_display()})"

    @property
    def phone_display(self) -> str:
        return phones.display(self.phone)


class UserQuerySet(models.QuerySet):
    def titulaires(self):
        return self.filter(role=Role.TITULAIRE)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("Une adresse électronique est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=Role.OPERATEUR, activated_at=timezone.now())
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """Every person who logs in: titulaires (by NIR or e-mail), organisme staff, conseillers
    and operators (Django admin)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    email = models.EmailField("adresse électronique", max_length=254, unique=True)
    role = models.CharField("rôle", max_length=20, choices=Role, default=Role.TITULAIRE)
    nir = models.CharField("numéro de sécurité sociale", max_length=15, unique=True, null=True, blank=True)
    organisme = models.ForeignKey(
        "catalogue.Organisme",
        verbose_name="organisme de formation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    # A conseiller works for one structure; a titulaire may choose one as interlocuteur.
    structure = models.ForeignKey(
        Structure, verbose_name="structure (conseiller)", null=True, blank=True, on_delete=models.PROTECT, related_name="conseillers"
    )
    interlocuteur = models.ForeignKey(
        Structure, verbose_name="interlocuteur choisi", null=True, blank=True, on_delete=models.SET_NULL, related_name="titulaires"
    )
    anonymized_at = models.DateTimeField("données personnelles effacées le", null=True, blank=True)

    first_name = models.CharField("prénom", max_length=100, blank=True)
    last_name = models.CharField("nom de naissance", max_length=100, blank=True)
    usage_name = models.CharField("nom d'usage", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    apprenticeship_contract = models.BooleanField("a signé un contrat d'apprentissage", default=False)
    cgu_accepted_at = models.DateTimeField("CGU acceptées le", null=True, blank=True)
    activated_at = models.DateTimeField("compte activé le", null=True, blank=True)

    # Informations professionnelles
    diploma = models.CharField("diplôme le plus élevé", max_length=10, choices=Diploma, blank=True)
    diploma_year = models.PositiveSmallIntegerField("année d'obtention", null=True, blank=True)
    socio_professional_category = models.CharField("catégorie socio-professionnelle", max_length=2, choices=SocioProfessionalCategory, blank=True)
    employment_status = models.CharField("situation professionnelle", max_length=20, choices=EmploymentStatus, blank=True)

    # Informations personnelles
    phone_mobile = models.CharField("téléphone mobile", max_length=10, blank=True)
    phone_landline = models.CharField("téléphone fixe", max_length=10, blank=True)
    street_number = models.CharField("numéro de voie", max_length=5, blank=True)
    street_repetition = models.CharField("indice de répétition", max_length=1, choices=StreetRepetition, blank=True)
    street_type = models.CharField("type de voie", max_length=3, choices=StreetType, blank=True)
    street_name = models.CharField("libellé de la voie", max_length=150, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=150, blank=True)
    locality = models.CharField("lieu-dit", max_length=100, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)

    is_active = models.BooleanField("actif", default=True, help_text="Décochez pour suspendre le compte.")
    is_staff = models.BooleanField("accès à l'administration", default=False)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=~Q(role=Role.TITULAIRE) | Q(nir__isnull=False) | Q(anonymized_at__isnull=False),
                name="accounts_user_titulaire_has_nir",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.CONSEILLER) | Q(structure__isnull=False),
                name="accounts_user_conseiller_has_structure",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.ORGANISME) | Q(organisme__isnull=False),
                name="accounts_user_staff_has_organisme",
            ),
            models.CheckConstraint(
                condition=Q(nir__isnull=True) | Q(nir__regex=r"^[1-8][0-9]{4}([0-9]{2}|2A|2B)[0-9]{8}$"),
                name="accounts_user_nir_format",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.usage_name or self.last_name) if part)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.first_name

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def is_titulaire(self) -> bool:
        return self.role == Role.TITULAIRE

    @property
    def is_conseiller(self) -> bool:
        return self.role == Role.CONSEILLER and self.structure_id is not None

    @property
    def is_organisme_staff(self) -> bool:
        return self.role == Role.ORGANISME and self.organisme_id is not None

    @property
    def nir_display(self) -> str:
        return nir_lib.display(self.nir) if self.nir else ""

    @property
    def nir_masked(self) -> str:
        return nir_lib.masked(self.nir)

    @property
    def phone_mobile_display(self) -> str:
        return phones.display(self.phone_mobile)

    @property
    def phone_landline_display(self) -> str:
        return phones.display(self.phone_landline)

    @property
    def address_lines(self) -> list[str]:
        return address_lines({name: getattr(self, name) for name in ADDRESS_FIELDS})


class ContactRequest(models.Model):
    """A message to the assistance (« Contacter l'assistance »), kept for the operators."""

    class Subject(models.TextChoices):
        COMPTE = "compte", "Mon compte, ma connexion"
        DROITS = "droits", "Mes droits, mon DIF"
        DOSSIER = "dossier", "Un dossier de formation"
        PAIEMENT = "paiement", "Un paiement, un remboursement"
        DEMARCHAGE = "demarchage", "Signaler un démarchage ou une fraude"
        AUTRE = "autre", "Autre question"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    reference = models.CharField("référence", max_length=20, unique=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_requests", verbose_name="utilisateur")
    name = models.CharField("nom", max_length=200)
    email = models.EmailField("courriel")
    subject = models.CharField("objet", max_length=20, choices=Subject)
    message = models.TextField("message")
    dossier_numero = models.CharField("numéro de dossier", max_length=10, blank=True)
    client_key = models.CharField(
        max_length=64, db_index=True, help_text="Empreinte de l'adresse IP (limite d'envoi).", verbose_name="empreinte du client"
    )
    created_at = models.DateTimeField("reçue le", default=timezone.now, db_index=True)
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande d'assistance"
        verbose_name_plural = "demandes d'assistance"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.reference} — {self.get_subject_display()}"


class ActivationCode(models.Model):
    """A 6-digit code sent by e-mail to activate an account. Only its HMAC is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_codes", verbose_name="utilisateur")
    code_hash = models.CharField(max_length=64, verbose_name="empreinte du code")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="créé le")
    expires_at = models.DateTimeField(verbose_name="expire le")
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="essais")
    used_at = models.DateTimeField(null=True, blank=True, verbose_name="utilisé le")
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name="révoqué le")

    class Meta:
        verbose_name = "code d'activation"
        verbose_name_plural = "codes d'activation"
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"Code d'activation de {self.user} ({timezone.localtime(self.created_at):%d/%m/%Y %H:%M})"


class PasswordResetRequest(models.Model):
    """One « Mot de passe oublié » request, counted per address and per client (both kept as
    keyed hashes, never in clear) to throttle them; forgotten with the login logs."""

    address_key = models.CharField(max_length=64, verbose_name="empreinte de l'adresse")
    client_key = models.CharField(max_length=64, verbose_name="empreinte du client")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="demandé le")

    class Meta:
        verbose_name = "demande de nouveau mot de passe"
        verbose_name_plural = "demandes de nouveau mot de passe"
        indexes = [models.Index(fields=["address_key", "created_at"]), models.Index(fields=["client_key", "created_at"])]

    def __str__(self):
        return f"Demande du {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"
