"""The demo catalogue reads like a real one: organismes named as organismes, each teaching its
own trade at its own address (other sites nearby), common subjects taught in person in every
large city, postal codes that agree with their communes."""

import math
import re

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Commune, Formation, Organisme, Session, place_label
from catalogue.search import SearchQuery, search
from catalogue.seed import LARGE_CITY, ensure_seed_example, seed_catalogue
from catalogue.seed_data import COMMON_DOMAINS
from catalogue.tests.factories import OrganismeFactory, commune

pytestmark = pytest.mark.django_db

DEMO_SIZE = 3000  # `make run`'s catalogue (load_demo --formations)


@pytest.fixture(scope="module")
def all_communes(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_communes", verbosity=0)
    yield
    with django_db_blocker.unblock():
        Commune.objects.all().delete()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def km(a: Commune, b: Commune) -> float:
    return math.hypot((a.latitude - b.latitude) * 111, (a.longitude - b.longitude) * 111 * math.cos(math.radians(a.latitude)))


def test_organismes_are_named_teach_their_trade_at_their_address_and_postal_codes_agree(all_communes):
    seed_catalogue(formations=DEMO_SIZE)
    organismes = list(Organisme.objects.all())
    assert len(organismes) == DEMO_SIZE // 15
    large_cities = {name.lower() for name in Commune.objects.filter(population__gte=LARGE_CITY).values_list("name", flat=True)}
    for organisme in organismes:
        name = words(organisme.raison_sociale)
        assert len(name) == len(set(name)), organisme.raison_sociale  # no doubled word
        assert organisme.city.lower() not in organisme.raison_sociale.lower(), organisme.raison_sociale
        assert not any(re.search(rf"\b{re.escape(city)}\b", organisme.raison_sociale.lower()) for city in large_cities), organisme.raison_sociale
    assert len({organisme.raison_sociale for organisme in organismes}) == len(organismes)  # no homonyms at this size

    # The address's postal code is one of its commune's.
    codes = {}
    for name, postal_codes in Commune.objects.values_list("name", "postal_codes"):
        codes.setdefault(name.split(" ")[0] if " Arrondissement" in name else name, set()).update(postal_codes)
    for organisme in organismes:
        assert organisme.postal_code in codes[organisme.city], (organisme.raison_sociale, organisme.postal_code, organisme.city)

    # One trade per organisme; most sessions at its address, the others in towns around.
    in_person = Session.objects.filter(commune__isnull=False)
    at_home = in_person.filter(address=F("formation__organisme__address"))
    assert at_home.count() > 0.7 * in_person.count()
    for session in at_home.select_related("formation__organisme", "commune")[:300]:
        assert session.formation.organisme.postal_code in session.commune.postal_codes
    for organisme in organismes[:40]:
        assert Formation.objects.filter(organisme=organisme).values("domaine").distinct().count() == 1, organisme.raison_sociale
        sessions = list(in_person.filter(formation__organisme=organisme).select_related("commune"))
        home = next(session.commune for session in sessions if session.address == organisme.address)
        assert all(km(home, session.commune) < 60 for session in sessions), organisme.raison_sociale


def test_common_subjects_are_taught_in_person_in_every_large_city(all_communes):
    seed_catalogue(formations=DEMO_SIZE)
    for city in Commune.objects.filter(population__gte=LARGE_CITY).exclude(name__contains="Arrondissement"):
        taught = {trade.split(" (Formacode")[0] for trade in Session.objects.filter(commune=city).values_list("formation__domaine", flat=True)}
        assert set(COMMON_DOMAINS) <= taught, city.name
    metz = Commune.objects.get(code_insee="57463")
    english = search(SearchQuery(keywords="anglais", commune=metz, radius_km=30, include_remote=False, per_page=50), today=timezone.localdate())
    assert all(hit.session.commune_id for hit in english.hits)
    assert len({hit.session.formation_id for hit in english.hits}) >= 5  # several English courses in person near Metz


def test_the_seed_training_is_at_57070_metz_on_every_page(client):
    """CP-FORMATION, 18 Rue des Feivres 57070 Metz: the session's place says 57070 too (Metz's
    first postal code is 57000)."""
    metz = commune("metz")
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", address="18 Rue des Feivres", postal_code="57070", city="Metz")
    formation = ensure_seed_example(organisme, today=timezone.localdate())
    session = formation.sessions.first()
    assert session.postal_code == "57070" and session.place_label == "Metz (57070)" and metz.label == "Metz (57000)"
    html = client.get(reverse("catalogue:detail", args=[formation.numero])).content.decode()
    assert "Metz (57070)" in html and "57070 Metz" in html and "57000" not in html
    # An action whose place is typed as « Metz (57070) » keeps that postal code; « Metz » the commune's.
    action = session.action
    action.postal_code = ""
    action.save()
    session.refresh_from_db()
    assert session.place_label == "Metz (57000)"
    assert place_label(metz, "57070") == "Metz (57070)" and place_label(metz, "13001") == "Metz (57000)"
