"""The shared cache of the catalogue's pages (catalogue/cache.py): a second visitor is served
from it, and a committed change is seen by the very next request, whatever wrote it."""

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from catalogue import services
from catalogue.cache import generations
from catalogue.models import Favori
from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db

SEARCH = reverse("catalogue:search")


@pytest.fixture
def formation():
    formation = FormationFactory(intitule="Anglais professionnel - Bright Language")
    SessionFactory(formation=formation, address="18 Rue des Feivres", commune=commune("metz"), price_cents=87000)
    return formation


def search_page(client, **params):
    response = client.get(SEARCH, {"quoi": "anglais", "ou": "Metz", "rayon": 30, "a_distance": "on", **params})
    assert response.status_code == 200
    return text(response)


def test_a_repeated_search_is_served_from_the_cache(client, formation, django_assert_num_queries):
    first = search_page(client)
    assert "870,00" in first
    # The second visitor: the catalogue's generations are read, everything else is cached
    # (commune lookup, typo correction, the search, the rendered list).
    with django_assert_num_queries(1):
        second = search_page(client)
    assert second == first


def test_a_changed_price_is_seen_at_once_on_results_and_detail(client, formation):
    detail = reverse("catalogue:detail", args=[formation.numero])
    assert "870,00" in search_page(client)
    assert "870,00" in text(client.get(detail))

    action = formation.actions.get()
    action.price_cents = 79000
    services.action_save(action=action, formation=formation)

    assert "790,00" in search_page(client) and "870,00" not in search_page(client)
    html = text(client.get(detail))
    assert "790,00" in html and "870,00" not in html


def test_a_change_written_outside_the_orm_is_seen_at_once(client, formation):
    """An import or an operator's SQL: the database triggers raise the generation themselves."""
    assert "Bright Language" in search_page(client)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalogue_organisme SET raison_sociale = 'Langues et Compagnie' WHERE id = %s", [formation.organisme_id])
    assert "par Langues et Compagnie" in search_page(client)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalogue_session SET active = false WHERE formation_id = %s", [formation.pk])
    assert "Aucune formation trouvée" in search_page(client)


def test_a_renamed_commune_is_seen_at_once(client, formation):
    assert "Metz (57" in search_page(client)
    before = generations()
    metz = commune("metz")
    metz.name = "Metz-Ville"
    metz.save()
    after = generations()
    assert after.communes != before.communes and after.catalogue != before.catalogue
    assert "Metz-Ville" in search_page(client, ou="57070")


def test_a_rolled_back_change_never_reuses_a_generation(formation):
    """Generations come from a sequence: a number is never given to two states."""
    from django.db import transaction

    before = generations()
    with pytest.raises(RuntimeError), transaction.atomic():
        formation.sessions.update(places=1)
        rolled_back = generations()
        raise RuntimeError
    assert generations() == before
    formation.sessions.update(places=2)
    assert generations().catalogue not in (before.catalogue, rolled_back.catalogue)


def test_favourites_are_not_shared_between_visitors(client, titulaire, formation):
    assert "dans vos favoris" not in search_page(client)
    Favori.objects.create(user=titulaire, formation=formation)
    client.force_login(titulaire)
    assert "dans vos favoris" in search_page(client)
    client.logout()
    assert "dans vos favoris" not in search_page(client)


def test_detail_page_links_follow_the_visitor(client, titulaire, formation):
    detail = reverse("catalogue:detail", args=[formation.numero])
    anonymous = text(client.get(detail))
    assert "?next=" in anonymous
    client.force_login(titulaire)
    assert "?next=" not in text(client.get(detail))


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "unix:///nonexistent/redis.sock",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    },
    SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
)
def test_pages_work_when_redis_is_away(client, titulaire, formation):
    assert "870,00" in search_page(client)
    assert "870,00" in text(client.get(reverse("catalogue:detail", args=[formation.numero])))
    client.force_login(titulaire)  # sessions fall back to PostgreSQL
    assert client.get(reverse("accounts:home")).status_code == 200


def test_unknown_parameters_neither_reach_the_links_nor_make_new_entries(client, formation, django_assert_num_queries):
    first = search_page(client)
    with django_assert_num_queries(1):  # served from the same cache entry
        tracked = search_page(client, utm_source="lettre")
    assert "utm_source" not in tracked
    assert tracked == first


def test_keys_name_the_database_they_were_read_from():
    """Two databases sharing a Redis (staging and production, a restored copy, a benchmark)
    count their generations alike: the keys also carry the database's identity."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hashtextextended(d.oid::text || ' ' || pg_postmaster_start_time()::text, 0) FROM pg_database d WHERE d.datname = current_database()"
        )
        database = cursor.fetchone()[0]
        cursor.execute("SELECT value FROM catalogue_generation WHERE scope = 'catalogue'")
        number = cursor.fetchone()[0]
    assert generations().catalogue == f"{database}.{number}"


def test_one_statement_raises_the_generation_once_whatever_its_triggers_write(formation):
    """Writing formations rewrites their index rows from a row trigger; those nested writes no
    longer raise the generation again each (one transaction writing many formations made the
    generation's row quadratic to update), while the enclosing statement still raises it, and
    a statement on the index itself too."""
    others = FormationFactory.create_batch(4)

    def raised(sql, params):
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value FROM catalogue_generation_seq")
            before = cursor.fetchone()[0]
            old = generations().catalogue
            cursor.execute(sql, params)
            cursor.execute("SELECT last_value FROM catalogue_generation_seq")
            return cursor.fetchone()[0] - before, generations().catalogue != old

    ids = [formation.pk, *(other.pk for other in others)]
    # Five formations, five index rows rewritten by the trigger: one raise, by the formations' statement.
    assert raised("UPDATE catalogue_formation SET intitule = intitule || ' (mis à jour)' WHERE id = ANY (%s)", [ids]) == (1, True)
    assert raised("UPDATE catalogue_formationindex SET rating_count = 1 WHERE formation_id = ANY (%s)", [ids]) == (1, True)
