"""Precomputed rankings of frequent words (``catalogue.models.Ranking``): a search they serve
gives the page and the count of a search over every match, whatever changed since they were
computed — committed before, during (in a transaction still open) or after."""

import datetime

import psycopg
import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from psycopg.conninfo import make_conninfo

from catalogue import search as search_module
from catalogue import services
from catalogue.models import Action, Formation, FormationIndex, Ranking
from catalogue.search import SearchQuery, search
from catalogue.tests.factories import FormationFactory, SessionFactory
from cpf_portal.testing import text

# Committed transactions: a ranking's snapshot only means something between them.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def small(monkeypatch):
    """Rankings for every word, a count capped at 4, a margin of 2 changes: 7 formations kept."""
    monkeypatch.setattr(services, "RANKED_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 4)
    monkeypatch.setattr(search_module, "RANKING_MARGIN", 2)


@pytest.fixture
def plumbing():
    """Twelve plumbing courses (three with the word in their title), and one of masonry."""
    courses = []
    for index in range(12):
        title = f"Plomberie sanitaire {index}" if index % 4 == 0 else f"Installations sanitaires {index}"
        formation = FormationFactory(intitule=title, objectifs="Les bases de la plomberie.")
        SessionFactory(formation=formation, price_cents=100_000 + 7_000 * ((index * 5) % 12))
        courses.append(formation)
    SessionFactory(formation=FormationFactory(intitule="Maçonnerie", objectifs="Murs et enduits."), price_cents=50_000)
    services.search_terms_refresh()
    services.rankings_refresh()
    return courses


def both(**kwargs):
    """The search as served (a ranking if usable) and the same over every match."""
    today = kwargs.pop("today", timezone.localdate())
    kwargs.setdefault("per_page", 2)  # pages within the cap, as 20 a page are within 1 000
    served = search(SearchQuery(**kwargs), today=today)
    original = search_module._rankable
    search_module._rankable = lambda query, plan: False
    try:
        every = search(SearchQuery(**kwargs), today=today)
    finally:
        search_module._rankable = original
    return served, every


def assert_same(served, every):
    assert (served.rows, served.total, served.total_capped, served.query.page) == (every.rows, every.total, every.total_capped, every.query.page)
    assert every.rows  # something to compare


def titles(result):
    return [hit.formation.intitule for hit in result.hits]


def test_a_ranking_serves_every_page_of_both_orders(plumbing):
    assert Ranking.objects.filter(tsquery="plomber:*").count() == 2  # by relevance and by price
    for sort in ("pertinence", "prix"):
        for page in (1, 2):
            served, every = both(keywords="plomberie", sort=sort, page=page)
            assert served.ranked and not every.ranked
            assert_same(served, every)
            assert served.total_capped and served.total == 4
    first = both(keywords="plomberie")[0]
    assert titles(first)[0].startswith("Plomberie sanitaire")  # the word in the title first


def test_changes_after_the_ranking_are_seen_at_once(plumbing):
    last = plumbing[-1]  # the most expensive at first
    Action.objects.filter(formation=last).update(price_cents=1_000)  # its sessions follow (trigger)
    served, every = both(keywords="plomberie", sort="prix")
    assert served.ranked and titles(served)[0] == last.intitule
    assert_same(served, every)

    cheapest = plumbing[0]
    Formation.objects.filter(pk=cheapest.pk).update(active=False)
    newcomer = FormationFactory(intitule="Plomberie de chauffage", objectifs="Chaudières.")
    SessionFactory(formation=newcomer, price_cents=500)
    served, every = both(keywords="plomberie", sort="prix")
    assert served.ranked
    assert titles(served)[:2] == [newcomer.intitule, last.intitule]
    assert_same(served, every)


def test_too_many_changes_read_every_match_until_recomputed(plumbing, monkeypatch):
    monkeypatch.setattr(search_module, "changes_read", lambda: 3)  # 3 logged changes are too many
    for formation in plumbing[:3]:
        Action.objects.filter(formation=formation).update(price_cents=2_000)
    served, every = both(keywords="plomberie", sort="prix")
    assert not served.ranked
    assert_same(served, every)
    assert services.rankings_refresh(stale_only=True) > 0
    served, every = both(keywords="plomberie", sort="prix")
    assert served.ranked
    assert_same(served, every)
    with connections["default"].cursor() as cursor:
        # The change log cut to what the rankings still need: nothing older than the oldest
        # snapshot's horizon (a transaction still open elsewhere on the server holds it back),
        # and no change that a ranking did not see.
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE c.xid < (SELECT min(pg_snapshot_xmin(snapshot::pg_snapshot)) FROM catalogue_ranking)),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM catalogue_ranking r WHERE NOT pg_visible_in_snapshot(c.xid, r.snapshot::pg_snapshot)))
            FROM catalogue_indexchange c
            """
        )
        assert cursor.fetchone() == (0, 0)


def test_a_ranking_is_not_used_once_one_of_its_formations_may_have_closed(plumbing):
    ranking = Ranking.objects.get(tsquery="plomber:*", sort="prix")
    closing = ranking.valid_until
    assert closing == min(FormationIndex.objects.filter(formation_id__in=ranking.formation_ids).values_list("open_until", flat=True))
    served, every = both(keywords="plomberie", sort="prix", today=closing)
    assert served.ranked
    assert_same(served, every)
    served, every = both(keywords="plomberie", sort="prix", today=closing + datetime.timedelta(days=1))
    assert not served.ranked
    assert served.rows == every.rows


def test_a_change_still_uncommitted_while_the_ranking_is_computed_is_seen(plumbing):
    """Another transaction makes the dearest course the cheapest and commits only after the
    ranking is computed: the ranking's snapshot does not see it, the change log does."""
    last = plumbing[-1]
    params = connections["default"].get_connection_params()
    conninfo = make_conninfo(**{key: value for key, value in params.items() if key in {"dbname", "host", "port", "user", "password"}})
    with psycopg.connect(conninfo) as other:
        other.execute("UPDATE catalogue_action SET price_cents = 1000 WHERE formation_id = %s", [last.pk])
        services.rankings_refresh()
        assert last.pk not in Ranking.objects.get(tsquery="plomber:*", sort="prix").formation_ids[:1]
        other.commit()
    served, every = both(keywords="plomberie", sort="prix")
    assert served.ranked and titles(served)[0] == last.intitule
    assert_same(served, every)


def test_a_filtered_search_keeps_the_ranking_s_page_only_when_it_is_provably_the_same(plumbing):
    """Under 1 500 €, 8 of the 12 pass, the 7 of the ranking by price among them: the
    candidates pass the cap and the page ends before the ranking's last. Under 1 100 €, only
    2 pass: whether others outside the ranking do, only every match tells."""
    for page in (1, 2):
        served, every = both(keywords="plomberie", sort="prix", max_price_cents=150_000, page=page)
        assert served.ranked
        assert_same(served, every)
    served, every = both(keywords="plomberie", sort="prix", max_price_cents=110_000)
    assert not served.ranked
    assert_same(served, every)
    assert served.total == 2 and not served.total_capped


def test_places_ratings_and_unranked_words_do_not_use_a_ranking(plumbing):
    assert both(keywords="plomberie", sort="note")[0].ranked is False
    assert both(keywords="plomberie sanitaire")[0].ranked is False  # no ranking of both words
    assert both(keywords="maçonnerie")[0].ranked is True  # a complete ranking: every match in it


def test_popular_searches_of_several_words_get_their_ranking(plumbing, monkeypatch):
    """Counted in Redis as people search (the words in any order), ranked by the next refresh
    once searched twice (here), forgotten when they stop: each night halves the counts."""
    monkeypatch.setattr(services, "POPULAR_MIN_SEARCHES", 2)
    both(keywords="plomberie sanitaire")
    services.rankings_refresh(stale_only=True)  # as beat does every quarter of an hour
    assert not Ranking.objects.filter(tsquery="plomber:* & sanitair:*").exists()  # searched once
    both(keywords="sanitaire plomberie", sort="prix")  # the same words, another order and sort
    services.rankings_refresh(stale_only=True)
    assert Ranking.objects.filter(tsquery="plomber:* & sanitair:*").count() == 2  # by relevance and by price
    for sort in ("pertinence", "prix"):
        served, every = both(keywords="plomberie sanitaire", sort=sort)
        assert served.ranked
        assert_same(served, every)
    # Each night's refresh halves the counts: 4 → 2 → 1, then no longer popular.
    services.rankings_refresh()
    services.rankings_refresh()
    services.rankings_refresh()
    assert not Ranking.objects.filter(tsquery__contains=" & ").exists()


def test_the_operator_s_recompute_is_queued_for_a_worker_not_run_in_the_request(plumbing, client, operator, monkeypatch):
    """At 200 000 formations a refresh lasts about 30 s: the admin action only queues it."""
    from catalogue import admin as catalogue_admin
    from catalogue.tasks import refresh_rankings

    queued = []
    monkeypatch.setattr(catalogue_admin, "enqueue", lambda task, *args: queued.append((task.name, *args)) or True)

    def computed():
        return {(tsquery, sort): at for tsquery, sort, at in Ranking.objects.values_list("tsquery", "sort", "computed_at")}

    before = computed()
    client.force_login(operator)
    url = reverse("admin:catalogue_ranking_changelist")
    action = {"action": "recompute", "_selected_action": [Ranking.objects.values_list("pk", flat=True)[0]]}
    page = text(client.post(url, action, follow=True))
    assert "Recalcul de tous les classements demandé" in page
    assert queued == [("catalogue.tasks.refresh_rankings", False)]
    assert computed() == before  # nothing done in the request
    refresh_rankings(*queued[0][1:])  # what the worker runs: every ranking, stale or not
    after = computed()
    assert after.keys() == before.keys() and all(after[key] > before[key] for key in before)

    monkeypatch.setattr(catalogue_admin, "enqueue", lambda task, *args: False)  # the broker is away
    assert "la file des tâches est injoignable" in text(client.post(url, action, follow=True))
