"""What the benchmarks share: each catalogue size's own database (created, migrated and
seeded on first use), the mix of realistic searches, the results page's query string for a
search, percentiles."""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpf_portal.settings")
os.environ.setdefault("DEBUG", "true")

QUERIES = int(os.environ.get("BENCH_QUERIES", 200))

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # no access log line per request in the figures

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalogue.models import Commune, Formation, Ranking  # noqa: E402
from catalogue.search import SearchQuery  # noqa: E402
from catalogue.services import rankings_refresh, search_terms_refresh  # noqa: E402

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


def database_name(formations: int) -> str:
    return f"{urlsplit(os.environ['DATABASE_URL']).path.lstrip('/')}_bench_{formations}"


def use_database(formations: int) -> None:
    """Point Django at this size's own database (created when missing)."""
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = database_name(formations)
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
    elif not Commune.objects.filter(open_sessions__gt=0).exists():
        search_terms_refresh()  # a database seeded before the statistics held sessions per commune
    if not Ranking.objects.exists():  # a database seeded before the rankings (migration 0023)
        start = time.monotonic()
        count = rankings_refresh()
        print(f"Classements précalculés : {count} en {time.monotonic() - start:.0f} s", flush=True)


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
            q.certification_type = rng.choice(["", "RNCP", "RS", "BILAN"])
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
