"""Catalogue search benchmark: p50/p95 server time of a mix of 200 realistic searches at two
catalogue sizes (100,000 formations / 300,000 sessions, then 200,000 / 600,000), by kind of
query, the growth of p95 from one size to the next, and a naive `icontains` ORM baseline on
a sample of the same mix.

    make bench            # or: python -m cpf_portal.embedded -- python bench/catalogue_search.py

Each size has its own database (`<name>_bench_<formations>` on the same server), created,
migrated and seeded on the first run (about a minute per 100,000 formations), reused
afterwards. BENCH_SIZES=100000,200000 chooses the sizes. Prints figures, asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpf_portal.settings")
os.environ.setdefault("DEBUG", "true")

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "100000,200000").split(",")]
QUERIES = int(os.environ.get("BENCH_QUERIES", 200))
# Each query is timed REPEAT times and its best time kept (both for the search and the
# baseline), so that a noisy neighbour on a shared machine does not decide the figures.
REPEAT = int(os.environ.get("BENCH_REPEAT", 2))
# The naive baseline takes about half a second a query: it runs on every NAIVE_EVERY-th query.
NAIVE_EVERY = int(os.environ.get("BENCH_NAIVE_EVERY", 4))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalogue.models import Commune, Formation, Session  # noqa: E402
from catalogue.search import SearchQuery, search  # noqa: E402
from catalogue.text import words  # noqa: E402
from cpf_portal.geo import bounding_box  # noqa: E402

KEYWORDS = [
    "anglais",
    "Anglais",
    "ANGLAIS",
    "anglai",
    "anglias",
    "toeic",
    "espagnol",
    "allemand",
    "italien",
    "français langue étrangère",
    "excel",
    "Excel TOSA",
    "word",
    "powerpoint",
    "bureautique",
    "développeur web",
    "developpeur",
    "python",
    "cybersécurité",
    "comptabilité",
    "comptabilite",
    "paie",
    "gestionnaire de paie",
    "ressources humaines",
    "management",
    "manager",
    "gestion de projet",
    "scrum",
    "permis b",
    "permis",
    "caces",
    "cariste",
    "poids lourd",
    "aide à domicile",
    "assistant de vie",
    "sst",
    "secouriste",
    "habilitation électrique",
    "électricien",
    "plaquiste",
    "vendeur",
    "community manager",
    "marketing digital",
    "cuisinier",
    "hygiène alimentaire",
    "haccp",
    "serveur",
    "création d'entreprise",
    "bilan de compétences",
    "vae",
    "linguaskill",
    "bright language",
    "delf",
    "rncp",
    "pmp",
    "réseaux sociaux",
]
RADII = [10, 30, 30, 50, 100]


def use_database(formations: int) -> None:
    """Point Django at this size's own database (created when missing)."""
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{parts.path.lstrip('/')}_bench_{formations}"
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    connection.settings_dict["NAME"] = name


def ensure_data(formations: int) -> None:
    use_database(formations)
    call_command("migrate", verbosity=0)
    call_command("load_communes", if_empty=True, verbosity=0)
    count = Formation.objects.count()
    if count < formations:
        print(f"Génération du catalogue : {formations - count} formations…", flush=True)
        start = time.monotonic()
        call_command("seed_catalogue", formations=formations - count, verbosity=0)
        print(f"  fait en {time.monotonic() - start:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def query_mix(rng: random.Random) -> list[SearchQuery]:
    places = list(Commune.objects.filter(population__gte=2000).order_by("-population").values_list("code_insee", flat=True)[:400])
    communes = Commune.objects.in_bulk(places, field_name="code_insee")
    mix = []
    for index in range(QUERIES):
        kind = index % 4
        commune = communes[rng.choice(places[:60] if rng.random() < 0.6 else places)]
        q = SearchQuery()
        if kind == 0:  # keyword only
            q.keywords = rng.choice(KEYWORDS)
        elif kind == 1:  # keyword + place + radius
            q.keywords, q.commune, q.radius_km = rng.choice(KEYWORDS), commune, rng.choice(RADII)
        elif kind == 2:  # place only
            q.commune, q.radius_km = commune, rng.choice(RADII)
            q.include_remote = rng.random() < 0.5
        else:  # with filters
            q.keywords = rng.choice(KEYWORDS)
            if rng.random() < 0.7:
                q.commune, q.radius_km = commune, rng.choice(RADII)
            q.max_price_cents = rng.choice([None, 100000, 200000, 500000])
            q.duration = rng.choice(["", "court", "moyen", "long"])
            q.certification_type = rng.choice(["", "RNCP", "RS", "AUTRE"])
            q.start_after = timezone.localdate() + timezone.timedelta(days=rng.choice([0, 30, 60]))
        if kind != 3:
            q.sort = rng.choice(["pertinence"] * 3 + ["prix", "distance"])
        else:
            q.sort = rng.choice(["pertinence", "prix", "distance"])
        if q.sort == "distance" and q.commune is None:
            q.sort = "pertinence"
        q.page = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        mix.append(q)
    return mix


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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


KINDS = {0: "mot-clé", 1: "mot-clé + lieu", 2: "lieu seul", 3: "avec filtres"}


def classes(index: int, q: SearchQuery) -> list[str]:
    """The rows of the table this query counts in."""
    found = ["toutes", KINDS[index % 4]]
    if q.sort != "pertinence" and not (q.sort == "distance" and q.commune is None):
        found.append(f"tri {q.sort}")
    if q.page > 1:
        found.append("page 2 et suivantes")
    return found


def page_params(q: SearchQuery) -> dict:
    """The results page's query string for this search (the form's field names)."""
    params = {"quoi": q.keywords, "rayon": q.radius_km, "page": q.page, "tri": q.sort, "duree": q.duration, "certification": q.certification_type}
    if q.commune is not None:
        params["ou"] = q.commune.label
    if q.include_remote:
        params["a_distance"] = "on"
    if q.max_price_cents is not None:
        params["prix_max"] = str(q.max_price_cents // 100)
    if q.start_after:
        params["debut_apres"] = q.start_after.isoformat()
    return params


def measure(formations: int) -> dict:
    ensure_data(formations)
    today = timezone.localdate()
    counts = (Formation.objects.count(), Session.objects.count())
    mix = query_mix(random.Random(42))
    timed(lambda q: search(q, today=today).hits, mix[:20])  # warm PostgreSQL's buffers
    ours = timed(lambda q: search(q, today=today).hits, mix)
    sample = mix[::NAIVE_EVERY]
    naive = timed(lambda q: naive_search(q, today), sample)
    ours_sample = ours[::NAIVE_EVERY]

    client = Client()
    pages = []
    for q in mix:
        best = float("inf")
        for _ in range(REPEAT):
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
        "counts": counts,
        "classes": by_class,
        "naive": naive,
        "ours_sample": ours_sample,
        "pages": pages,
        "slowest": (ours[slowest], mix[slowest]),
    }


def describe(q: SearchQuery) -> str:
    place = f" près de {q.commune.name} ({q.radius_km} km)" if q.commune else ""
    return f"« {q.keywords} »{place}, tri {q.sort}, page {q.page}"


def main() -> None:
    setup_test_environment()
    results = {size: measure(size) for size in SIZES}
    print(f"\nRecherche « catalogue.search.search » : {QUERIES} recherches (mot-clé, mot-clé + lieu + rayon, lieu seul, avec filtres ;")
    print(f"tris et pages variés), meilleur temps de {REPEAT} passages ; temps serveur en ms.\n")
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
            f"  page de résultats complète (vue + gabarit, Client Django) : p50 {percentile(r['pages'], 50):6.1f} ms  p95 {percentile(r['pages'], 95):6.1f} ms"
        )
        duration, q = r["slowest"]
        print(f"  requête la plus lente : {duration:.1f} ms, {describe(q)}")


if __name__ == "__main__":
    main()
