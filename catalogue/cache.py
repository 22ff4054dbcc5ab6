"""What the catalogue's public pages share between visitors, kept in Django's cache (Redis,
shared by every web node): commune lookups, search results, rendered result lists and
formation pages.

Every key carries the *generation* of the data it was computed from: a number per part of
the catalogue (``catalogue.models.Generation``) that database triggers raise, in the
writer's transaction, for every statement writing a formation, session, organisme,
certification, the search index or a commune. A request reads the generations once, first;
whatever it computes afterwards is at least as recent as that number, so an entry is never
older than its key. A committed change gives a new number, and the next request on any node
misses the old entries (they expire on their own). Nothing is deleted by hand, and nothing
written outside the ORM (imports, SQL, the admin) can be forgotten.

The cache is an accelerator only: with Redis away every read is a miss and the pages are
computed from PostgreSQL (settings: django-redis ``IGNORE_EXCEPTIONS``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connection

from . import search as search_module
from .models import Formation, Generation, Session

T = TypeVar("T")
_MISSING = object()


@dataclasses.dataclass(frozen=True)
class Generations:
    catalogue: str
    communes: str


# Generations count within one database: the keys also name the database they were read from
# (its OID and its server's start time), so that two databases sharing a Redis — staging and
# production, a restored copy beside the original, a benchmark's database — never read each
# other's entries. A server restart starts a new key space (the old entries expire).
_GENERATIONS_SQL = """
SELECT scope, value FROM catalogue_generation
UNION ALL
SELECT 'database', hashtextextended(d.oid::text || ' ' || pg_postmaster_start_time()::text, 0)
  FROM pg_database d WHERE d.datname = current_database()
"""


def generations() -> Generations:
    """The current generations, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_GENERATIONS_SQL)
        values = dict(cursor.fetchall())
    database = values.get("database", 0)
    return Generations(
        catalogue=f"{database}.{values.get(Generation.Scope.CATALOGUE, 0)}",
        communes=f"{database}.{values.get(Generation.Scope.COMMUNES, 0)}",
    )


def digest(*parts) -> str:
    """A short, stable key part for free text and structured values."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def remember(key: str, compute: Callable[[], T]) -> T:
    """The cached value of ``key``, computed and stored on a miss. ``None`` is a value too
    (« no such commune »)."""
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value)
    return value


def place_key(gens: Generations, text: str) -> str:
    return f"catalogue:place:{gens.communes}:{digest(text.strip().lower())}"


def search_key(gens: Generations, query, today: datetime.date) -> str:
    fields = dataclasses.astuple(dataclasses.replace(query, commune=None))
    return f"catalogue:search:{gens.catalogue}:{today.isoformat()}:{digest(fields, query.commune.pk if query.commune else None)}"


def resolve_place(text: str, gens: Generations):
    """``search.resolve_place``, remembered per text until the communes change."""
    return remember(place_key(gens, text), lambda: search_module.resolve_place(text))


def search(query, *, today: datetime.date, gens: Generations):
    """``search.search``, remembered per query and day until the catalogue changes (the
    page's row ids and counts; the objects are loaded when rendered)."""
    return remember(search_key(gens, query, today), lambda: search_module.search(query, today=today))


def search_page_key(gens: Generations, today: datetime.date, params) -> str:
    """The key of an anonymous visitor's search page parts: the query string as typed (with
    the communes' and the catalogue's generations, since « Où ? » is resolved from it)."""
    return f"catalogue:search-page:{gens.catalogue}:{gens.communes}:{today.isoformat()}:{digest(sorted(params.lists()))}"


def formation_page(numero: str, *, today: datetime.date, gens: Generations):
    """(formation with organisme and certification, its open sessions with their commune) for
    « Détail d'une formation », or None when it is not published; remembered until the
    catalogue changes."""

    def load():
        formation = Formation.objects.published().with_duree_range().select_related("organisme", "certification").filter(numero=numero).first()
        if formation is None:
            return None
        return formation, list(Session.objects.open(today).filter(formation=formation).select_related("action", "commune"))

    return remember(f"catalogue:formation:{gens.catalogue}:{today.isoformat()}:{digest(numero)}", load)


def viewer_kind(user) -> str:
    """Who reads the sessions list: its « S'inscrire » differs for a visitor (login first), a
    titulaire (the registration) and any other account (no registration)."""
    if not user.is_authenticated:
        return "visiteur"
    return "titulaire" if user.is_titulaire else "autre"


def formation_sessions_key(gens: Generations, today: datetime.date, formation, *, viewer: str) -> str:
    """The key of a formation page's rendered sessions list, per kind of reader (``viewer_kind``)."""
    return f"{gens.catalogue}:{today.isoformat()}:{formation.pk}:{viewer}"
