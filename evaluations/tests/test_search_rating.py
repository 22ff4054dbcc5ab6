"""« Les mieux notées » and « Note minimale » on every path of the search (catalogue.search):
the rating is read on the index row each path visits."""

from decimal import Decimal

import pytest
from django.utils import timezone

from catalogue import search as search_module
from catalogue import services
from catalogue.models import Formation
from catalogue.search import SearchQuery, search
from catalogue.tests.factories import FormationFactory, SessionFactory, commune, remote_formation

pytestmark = pytest.mark.django_db


def run(**kwargs):
    return search(SearchQuery(**kwargs), today=timezone.localdate())


def rate(formation, average: str, count: int = 3):
    # As the evaluations' service writes it (the index trigger copies it).
    Formation.objects.filter(pk=formation.pk).update(rating_average=Decimal(average), rating_count=count)


def titles(result):
    return [hit.formation.intitule for hit in result.hits]


@pytest.fixture
def plumbing():
    metz, montigny, nancy = commune("metz"), commune("montigny"), commune("nancy")
    ratings = ["3.20", "4.80", None, "4.10", "2.00"]
    for index, (place, rating) in enumerate(zip([metz, montigny, nancy, metz, montigny], ratings, strict=True)):
        formation = FormationFactory(intitule=f"Plomberie sanitaire niveau {index}")
        SessionFactory(formation=formation, commune=place, price_cents=40_000 + 10_000 * index)
        SessionFactory(formation=formation, commune=nancy, price_cents=45_000 + 10_000 * index)
        if rating:
            rate(formation, rating)
    rate(remote_formation(intitule="Plomberie à distance"), "4.50")
    services.search_terms_refresh()
    return metz


BEST_FIRST = ["niveau 1", "distance", "niveau 3", "niveau 0", "niveau 4", "niveau 2"]


def short(result):
    return [title.removeprefix("Plomberie ").removeprefix("sanitaire ").removeprefix("à ") for title in titles(result)]


def test_best_rated_first_unrated_last_with_and_without_place(plumbing):
    assert short(run(keywords="plomberie", sort="note")) == BEST_FIRST
    assert short(run(keywords="plomberie", commune=plumbing, radius_km=100, sort="note")) == BEST_FIRST
    assert short(run(commune=plumbing, radius_km=100, sort="note")) == BEST_FIRST  # place only


def test_minimum_rating(plumbing):
    assert short(run(keywords="plomberie", min_rating=4, sort="note")) == ["niveau 1", "distance", "niveau 3"]
    assert short(run(commune=plumbing, radius_km=100, min_rating=3, sort="note")) == ["niveau 1", "distance", "niveau 3", "niveau 0"]
    assert run(keywords="plomberie", min_rating=4).total == 3
    assert run(keywords="plomberie", min_rating=7).total == 6  # not a choice of the form: ignored


@pytest.mark.parametrize(
    "filters", [{"sort": "note"}, {"min_rating": 3}, {"sort": "note", "max_price_cents": 60_000}, {"sort": "note", "include_remote": False}]
)
def test_every_strategy_gives_the_same_page(monkeypatch, plumbing, filters):
    pages = {}
    strategies = ("near_first", "formation_first") if "max_price_cents" in filters else ("near_first", "arrays", "formation_first")
    for strategy in strategies:
        monkeypatch.setattr(search_module, "_strategy", lambda plan, terms, strategy=strategy: strategy)
        result = run(keywords="plomberie", commune=plumbing, radius_km=100, **filters)
        pages[strategy] = (result.total, titles(result))
    assert pages["near_first"][0] > 0
    assert all(page == pages["near_first"] for page in pages.values()), pages


def test_capped_place_search_orders_the_nearest_by_rating(monkeypatch):
    places = [commune(key) for key in ("metz", "montigny", "thionville", "nancy")]
    for index in range(24):
        session = SessionFactory(commune=places[index % 4], price_cents=10_000 + 1_000 * index)
        rate(session.formation, f"{1 + (index % 5)}.00")
    monkeypatch.setattr(search_module, "PROBE_SESSIONS", 12)
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 10)
    capped = run(commune=places[0], radius_km=50, include_remote=False, per_page=4, sort="note")
    assert capped.total_capped
    ratings = [hit.formation.rating_average for hit in capped.hits]
    assert ratings == sorted(ratings, reverse=True) and len(ratings) == 4
