"""Catalogue search benchmark: p50/p95 server time of a mix of 200 realistic searches at two
catalogue sizes (100,000 formations / 300,000 sessions, then 200,000 / 600,000), by kind of
query, the growth of p95 from one size to the next, and a naive `icontains` ORM baseline on
a sample of the same mix.

    make bench            # or: python -m cpf_portal.embedded -- python bench/catalogue_search.py

Each size has its own database (`<name>_bench_<formations>` on the same server), created,
migrated and seeded on the first run (about a minute per 100,000 formations), reused
afterwards. BENCH_SIZES=100000,200000 chooses the sizes, BENCH_PASSES (3) the passes over
the mix, the sizes taking turns. Prints figures, asserts nothing.
"""

from __future__ import annotations

import copy
import os
import random
import statistics
import time

from common import QUERIES, ensure_data, page_params, percentile, query_mix, use_database
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import setup_test_environment
from django.utils import timezone

from catalogue import search as search_module
from catalogue.models import Formation, Session
from catalogue.search import SearchQuery, search
from catalogue.services import rankings_refresh
from catalogue.text import words
from cpf_portal.geo import bounding_box

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "100000,200000").split(",")]
# Each query is timed REPEAT times and its best time kept (both for the search and the
# baseline), so that a noisy neighbour on a shared machine does not decide the figures.
REPEAT = int(os.environ.get("BENCH_REPEAT", 2))
# The searches: PASSES passes over the mix, the sizes taking turns (see ``searches``).
PASSES = int(os.environ.get("BENCH_PASSES", 3))
# The naive baseline takes about a second a query: it runs on every NAIVE_EVERY-th query (5:
# coprime with the 4 kinds, so the sample holds every kind).
NAIVE_EVERY = int(os.environ.get("BENCH_NAIVE_EVERY", 5))


def naive_search(q: SearchQuery, today):
    """What one writes first: icontains on every text, place by latitude/longitude ranges."""
    sessions = Session.objects.filter(active=True, formation__active=True).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    for word in words(q.keywords):
        sessions = sessions.filter(
            Q(formation__intitule__icontains=word)
            | Q(formation__objectifs__icontains=word)
            | Q(formation__contenu__icontains=word)
            | Q(formation__organisme__raison_sociale__icontains=word)
            | Q(formation__certification__libelle__icontains=word)
        )
    if q.commune is not None:
        lon_min, lat_min, lon_max, lat_max = bounding_box(q.commune.latitude, q.commune.longitude, q.radius_km)
        near = Q(commune__latitude__range=(lat_min, lat_max), commune__longitude__range=(lon_min, lon_max))
        sessions = sessions.filter(near | Q(commune__isnull=True)) if q.include_remote else sessions.filter(near)
    if q.max_price_cents is not None:
        sessions = sessions.filter(price_cents__lte=q.max_price_cents)
    if q.certification_type:
        sessions = sessions.filter(formation__certification__type=q.certification_type)
    if q.start_after:
        sessions = sessions.filter(Q(permanent_entry=True) | Q(start_date__gte=q.start_after))
    total = sessions.values("formation_id").distinct().count()
    offset = (q.page - 1) * q.per_page
    page = list(sessions.select_related("formation__organisme", "commune").order_by("price_cents", "id")[offset : offset + q.per_page])
    return total, page


def timed(function, queries) -> list[float]:
    durations = []
    for q in queries:
        best = float("inf")
        for _ in range(REPEAT):
            start = time.perf_counter()
            function(q)
            best = min(best, (time.perf_counter() - start) * 1000)
        durations.append(best)
    return durations


KINDS = {0: "mot-clé", 1: "mot-clé + lieu", 2: "lieu seul", 3: "avec filtres"}


def classes(index: int, q: SearchQuery) -> list[str]:
    """The rows of the table this query counts in."""
    found = ["toutes", KINDS[index % 4]]
    if q.sort != "pertinence" and not (q.sort == "distance" and q.commune is None):
        found.append(f"tri {q.sort}")
    if q.page > 1:
        found.append("page 2 et suivantes")
    return found


def searches(sizes: list[int]) -> dict[int, list[float]]:
    """Each size's best time per query over PASSES passes, the sizes taking turns pass after
    pass: the speed of a shared machine drifts over minutes, and each size then sees the same
    drift (measuring one size after the other made the growth a measure of the drift)."""
    today = timezone.localdate()

    def run(q: SearchQuery) -> list:
        return search(copy.copy(q), today=today).hits  # a copy: the search may move the page

    for size in sizes:
        ensure_data(size)  # created and seeded on a first run: the mix reads its communes
        mix = query_mix(random.Random(42))
        for q in mix:  # a server in service: its catalogue in PostgreSQL's buffers…
            run(q)
        rankings_refresh(stale_only=True)  # …and beat's rankings of the searches made (quarter-hourly)
    best = {size: [float("inf")] * len(mix) for size in sizes}
    for _ in range(PASSES):
        for size in sizes:
            use_database(size)
            for index, q in enumerate(mix):
                start = time.perf_counter()
                run(q)
                best[size][index] = min(best[size][index], (time.perf_counter() - start) * 1000)
    return best


def measure(formations: int, ours: list[float]) -> dict:
    use_database(formations)
    today = timezone.localdate()
    counts = (Formation.objects.count(), Session.objects.count())
    mix = query_mix(random.Random(42))
    sample = mix[::NAIVE_EVERY]
    naive = timed(lambda q: naive_search(q, today), sample)
    ours_sample = ours[::NAIVE_EVERY]

    client = Client()
    pages = []
    for q in mix:
        best = float("inf")
        for _ in range(REPEAT):
            cache.clear()  # the page as computed, not as served from the shared cache (see make bench-web)
            start = time.perf_counter()
            response = client.get("/formations/recherche/", page_params(q))
            best = min(best, (time.perf_counter() - start) * 1000)
        pages.append(best)
        assert response.status_code == 200, response.status_code
    by_class: dict[str, list[float]] = {}
    for index, (q, duration) in enumerate(zip(mix, ours, strict=True)):
        for name in classes(index, q):
            by_class.setdefault(name, []).append(duration)
    slowest = max(range(len(mix)), key=lambda i: ours[i])
    return {
        "ranked": ranked_without(mix, ours, today),
        "floor": floor(),
        "counts": counts,
        "classes": by_class,
        "naive": naive,
        "ours_sample": ours_sample,
        "pages": pages,
        "slowest": (ours[slowest], mix[slowest]),
    }


def ranked_without(mix: list[SearchQuery], ours: list[float], today) -> tuple[list[float], list[float]]:
    """The searches a precomputed ranking served: their times in the run, and the same
    searches again with every match read (the rankings set aside), best of REPEAT."""
    ranked = [index for index, q in enumerate(mix) if search(copy.copy(q), today=today).ranked]
    rankable = search_module._rankable
    search_module._rankable = lambda query, plan: False
    try:
        without = timed(lambda q: search(copy.copy(q), today=today).hits, [mix[index] for index in ranked])
    finally:
        search_module._rankable = rankable
    return [ours[index] for index in ranked], without


FLOOR_WORD = "rncp"


def floor() -> tuple[int, float]:
    """The machine's speed in this run, and what any exact answer must at least cost: counting
    every formation a frequent word matches (one scan of the words' index, each match's row
    read), without parallel workers; best of three."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            cursor.execute("SELECT count(*) FROM catalogue_formationindex WHERE document @@ to_tsquery('simple', %s)", [f"{FLOOR_WORD}:*"])
            matches = cursor.fetchone()[0]
            best = min(best, (time.perf_counter() - start) * 1000)
        cursor.execute("RESET max_parallel_workers_per_gather")
    return matches, best


def describe(q: SearchQuery) -> str:
    place = f" près de {q.commune.name} ({q.radius_km} km)" if q.commune else ""
    return f"« {q.keywords} »{place}, tri {q.sort}, page {q.page}"


def main() -> None:
    setup_test_environment()
    times = searches(SIZES)
    results = {size: measure(size, times[size]) for size in SIZES}
    print(f"\nRecherche « catalogue.search.search » : {QUERIES} recherches (mot-clé, mot-clé + lieu + rayon, lieu seul, avec filtres ;")
    print(f"tris et pages variés), meilleur temps de {PASSES} passages, les tailles à tour de rôle ; temps serveur en ms.\n")
    header = f"{'classe de requêtes':<22}" + "".join(
        f"| {results[size]['counts'][0] // 1000}k / {results[size]['counts'][1] // 1000}k : p50 / p95 (n) " for size in SIZES
    )
    if len(SIZES) > 1:
        header += "| croissance du p95"
    print(header)
    print("-" * len(header))
    for name in ["toutes", *KINDS.values(), "tri prix", "tri distance", "page 2 et suivantes"]:
        line = f"{name:<22}"
        for size in SIZES:
            values = results[size]["classes"].get(name, [])
            line += f"| {percentile(values, 50):7.1f} / {percentile(values, 95):6.1f} ({len(values):3d})        "
        if len(SIZES) > 1:
            first, last = results[SIZES[0]]["classes"][name], results[SIZES[-1]]["classes"][name]
            line += f"| ×{percentile(last, 95) / percentile(first, 95):.2f}"
        print(line)
    print()
    for size in SIZES:
        r = results[size]
        naive, ours = r["naive"], r["ours_sample"]
        print(f"À {r['counts'][0]} formations / {r['counts'][1]} sessions :")
        print(
            f"  référence naïve (icontains ORM), {len(naive)} requêtes : p50 {percentile(naive, 50):6.1f} ms  p95 {percentile(naive, 95):6.1f} ms ; "
            f"les mêmes ici : p50 {percentile(ours, 50):5.1f} ms  p95 {percentile(ours, 95):5.1f} ms ; "
            f"rapport p50 ×{percentile(naive, 50) / percentile(ours, 50):.1f}, p95 ×{percentile(naive, 95) / percentile(ours, 95):.1f}, "
            f"moyenne ×{statistics.mean(naive) / statistics.mean(ours):.1f}"
        )
        print(
            f"  page de résultats complète, hors cache (vue + gabarit, Client Django) : p50 {percentile(r['pages'], 50):6.1f} ms  p95 {percentile(r['pages'], 95):6.1f} ms"
        )
        duration, q = r["slowest"]
        print(f"  requête la plus lente : {duration:.1f} ms, {describe(q)}")
        served, without = r["ranked"]
        if served:
            print(
                f"  servies par un classement précalculé : {len(served)} / {len(r['pages'])} : p50 {percentile(served, 50):5.1f} ms  "
                f"p95 {percentile(served, 95):5.1f} ms ; les mêmes en lisant chaque correspondance : "
                f"p50 {percentile(without, 50):5.1f} ms  p95 {percentile(without, 95):5.1f} ms"
            )
        matches, cost = r["floor"]
        print(f"  étalon : compter les {matches} formations contenant « {FLOOR_WORD} » (chaque ligne lue, sans parallélisme) : {cost:.1f} ms")


if __name__ == "__main__":
    main()
