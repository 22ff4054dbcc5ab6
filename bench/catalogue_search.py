"""Catalogue search benchmark: p50/p95 server time of a mix of 200 realistic searches on
100,000 formations / 300,000 sessions, against a naive `icontains` ORM baseline.

    make bench            # or: python -m cpf_portal.embedded -- python bench/catalogue_search.py

It uses its own database (`<name>_bench` on the same server), created, migrated and seeded
on the first run (about a minute), reused afterwards. Prints figures, asserts nothing.
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

FORMATIONS = int(os.environ.get("BENCH_FORMATIONS", 100_000))
QUERIES = int(os.environ.get("BENCH_QUERIES", 200))
# Each query is timed REPEAT times and its best time kept (both for the search and the
# baseline), so that a noisy neighbour on a shared machine does not decide the figures.
REPEAT = int(os.environ.get("BENCH_REPEAT", 2))


def use_bench_database() -> None:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") + "_bench"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))


use_bench_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
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


def ensure_data() -> None:
    call_command("migrate", verbosity=0)
    call_command("load_communes", if_empty=True, verbosity=0)
    count = Formation.objects.count()
    if count < FORMATIONS:
        print(f"Génération du catalogue : {FORMATIONS - count} formations…", flush=True)
        start = time.monotonic()
        call_command("seed_catalogue", formations=FORMATIONS - count, verbosity=0)
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
            q.sort = rng.choice(["pertinence", "prix", "distance"])
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


def main() -> None:
    ensure_data()
    today = timezone.localdate()
    formations, sessions = Formation.objects.count(), Session.objects.count()
    mix = query_mix(random.Random(42))
    print(
        f"Catalogue : {formations} formations, {sessions} sessions ; {len(mix)} recherches "
        f"(mot-clé, mot-clé + lieu + rayon, lieu seul, avec filtres), meilleur temps de {REPEAT} passages."
    )

    timed(lambda q: search(q, today=today), mix[:20])  # warm the cache
    ours = timed(lambda q: search(q, today=today), mix)
    naive = timed(lambda q: naive_search(q, today), mix)

    setup_test_environment()
    client = Client()
    pages = []
    for q in mix:
        params = {"quoi": q.keywords, "rayon": q.radius_km, "page": q.page}
        if q.commune is not None:
            params["ou"] = q.commune.label
        best = float("inf")
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = client.get("/formations/recherche/", params)
            best = min(best, (time.perf_counter() - start) * 1000)
        pages.append(best)
        assert response.status_code == 200, response.status_code

    p50, p95 = percentile(ours, 50), percentile(ours, 95)
    n50, n95 = percentile(naive, 50), percentile(naive, 95)
    print(f"Recherche PostgreSQL (plein texte, index)      p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {max(ours):6.1f} ms")
    print(f"Référence naïve (icontains ORM)                 p50 {n50:6.1f} ms   p95 {n95:6.1f} ms   max {max(naive):6.1f} ms")
    print(
        f"Rapport naïf / optimisé                          p50 ×{n50 / p50:5.1f}     p95 ×{n95 / p95:5.1f}   "
        f"(moyenne ×{statistics.mean(naive) / statistics.mean(ours):.1f})"
    )
    print(f"Page de résultats complète (vue + gabarit)      p50 {percentile(pages, 50):6.1f} ms   p95 {percentile(pages, 95):6.1f} ms")
    by_kind = {0: "mot-clé", 1: "mot-clé + lieu", 2: "lieu seul", 3: "avec filtres"}
    for kind, label in by_kind.items():
        values = [d for i, d in enumerate(ours) if i % 4 == kind]
        print(f"  {label:<16} p50 {percentile(values, 50):6.1f} ms   p95 {percentile(values, 95):6.1f} ms")


if __name__ == "__main__":
    main()
