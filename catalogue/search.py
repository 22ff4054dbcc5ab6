"""« Rechercher une formation »: everything is computed in PostgreSQL.

- Keywords: full-text search on ``FormationIndex.document`` (french_unaccent configuration:
  accents and case ignored, French stemming), each word used as a prefix (« anglai » finds
  « anglais »); a word the catalogue does not know is replaced by the closest word of its
  vocabulary by trigram similarity (« anglias » → « anglais »). Relevance: words in the
  title first.
- Place: sessions in a bounding box around the chosen commune (index on their coordinates,
  covering the columns read), or, with keywords, the formations having the words in the
  0.5° grid cells covering that box (``coarse_cells``); then the great-circle
  distance. Remote formations (« À distance ») are added whatever the place.
- One row per formation (its nearest, then cheapest, matching session), sorted and paginated
  in SQL with the total count in the same query; the count stops at CAPPED_TOTAL (« plus de
  1 000 formations »), and with keywords and a place the remote matches are read only when
  they can be on the page (``_capped_page_sql``). Nothing is filtered in Python.
- Words without a place: a precomputed ranking of the words (frequent ones, popular
  searches), kept exact by a change log, restricts the search to a few hundred formations
  when that provably gives the same page (``_ranking_answers``).

A search runs a fixed number of queries whatever the number of results: the typo
correction (when there are keywords), the search itself (again over every match when a
ranking could not answer for sure), and the fetch of the page's rows.
"""

from __future__ import annotations

import datetime
import logging
import math
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, IntegerField, Q
from redis.exceptions import RedisError

from cpf_portal.geo import bounding_box, haversine_sql

from .models import Certification, Commune, Modalite, Rythme, Session
from .text import normalize, words

logger = logging.getLogger(__name__)

PER_PAGE = 20
RADIUS_CHOICES = (10, 30, 50, 100)
SORTS = ("pertinence", "distance", "prix", "note")
MIN_RATINGS = (3, 4)  # « Note minimale » : 3 et plus, 4 et plus
DURATIONS = {
    "": (None, None),
    "court": (None, 35),
    "moyen": (35, 150),
    "long": (150, None),
}
_TERM = re.compile(r"^[a-z0-9]+$")


@dataclass
class SearchQuery:
    keywords: str = ""
    commune: Commune | None = None
    radius_km: int = 30
    include_remote: bool = True
    max_price_cents: int | None = None
    duration: str = ""
    certification_type: str = ""
    niveau: str = ""
    modalite: str = ""
    rythme: str = ""
    start_after: datetime.date | None = None
    start_before: datetime.date | None = None
    min_rating: int | None = None
    sort: str = "pertinence"
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def is_empty(self) -> bool:
        return not words(self.keywords) and self.commune is None


@dataclass
class SearchHit:
    session: Session
    distance_km: float | None
    rank: float

    @property
    def formation(self):
        return self.session.formation


@dataclass
class SearchResult:
    query: SearchQuery
    # The page's (session id, distance in km or None, relevance), in order: what the cache keeps.
    rows: list[tuple[int, float | None, float]] = field(default_factory=list)
    total: int = 0
    # True when there are more than ``total`` results (« plus de 1 000 formations »).
    total_capped: bool = False
    corrections: dict[str, str] = field(default_factory=dict)
    # True when a precomputed ranking of the words served the page (``_use_ranking``).
    ranked: bool = False

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_hits", None)  # loaded objects are not cached, only their ids
        return state

    @property
    def hits(self) -> list[SearchHit]:
        """The page's sessions with their formation, organisme, certification and commune,
        loaded in one query on first use."""
        if "_hits" not in self.__dict__:
            ids = [row[0] for row in self.rows]
            sessions = (
                Session.objects.select_related("formation__organisme", "formation__certification", "action", "commune").in_bulk(ids) if ids else {}
            )
            self._hits = [SearchHit(session=sessions[row[0]], distance_km=row[1], rank=row[2]) for row in self.rows if row[0] in sessions]
        return self._hits

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.query.page < self.num_pages


# --- Keywords ------------------------------------------------------------------------------

# A typed word is searched as a prefix (« anglai » finds « anglais »). When the lexicon holds at
# most LEXEME_FORMS words beginning with it, they are searched as exact words instead: the same
# formations, read faster (a GIN index gathers a prefix's postings into a bitmap, it merges
# an exact word's). More than that, the prefix.
LEXEME_FORMS = 32

_TERMS_SQL = f"""
SELECT typed.*, (
    -- The lexicon's words beginning with the term used (the suggestion when it replaces the
    -- stem), as a range of its C-ordered key; one more than LEXEME_FORMS means too many.
    SELECT array_agg(l.word ORDER BY l.word) FROM (
        SELECT l.word FROM catalogue_lexeme l
        WHERE l.word >= typed.used AND l.word < typed.used || chr(1114111) AND starts_with(l.word, typed.used)
        ORDER BY l.word LIMIT {LEXEME_FORMS + 1}
    ) AS l
) AS forms
FROM (
    SELECT w.word, lex.stem, vocabulary.forms > 0 AS known, vocabulary.documents, suggested.word AS suggestion,
           CASE WHEN vocabulary.forms = 0 AND suggested.word IS NOT NULL THEN suggested.word ELSE lex.stem END AS used,
           w.position
    FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, position)
    CROSS JOIN LATERAL (SELECT (ts_lexize('french_stem', w.word))[1] AS stem) AS lex
    CROSS JOIN LATERAL (
        SELECT count(*) AS forms, coalesce(sum(t.documents), 0) AS documents
        FROM catalogue_searchterm t WHERE t.word LIKE lex.stem || '%%'
    ) AS vocabulary
    LEFT JOIN LATERAL (
        SELECT t.word FROM catalogue_searchterm t
        WHERE vocabulary.forms = 0 AND t.word %% lex.stem
        ORDER BY similarity(t.word, lex.stem) DESC, t.documents DESC LIMIT 1
    ) AS suggested ON true
) AS typed
ORDER BY typed.position
"""


@dataclass
class Terms:
    terms: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)  # {typed: used}
    # {term: the lexicon's words beginning with it}, for the terms having at most LEXEME_FORMS.
    forms: dict[str, list[str]] = field(default_factory=dict)
    # Rough number of formations containing every term (from the vocabulary's document
    # frequencies), to choose between search strategies.
    estimated_matches: int = 0


def tsquery_terms(keywords: str) -> Terms:
    """Stems to search as prefixes, with the typo corrections made."""
    result = Terms()
    typed = words(keywords)
    if not typed:
        return result
    with connection.cursor() as cursor:
        cursor.execute(_TERMS_SQL, [typed])
        rows = cursor.fetchall()
    estimates = []
    for word, stem, known, documents, suggestion, _used, _position, forms in rows:
        if not stem:  # a stop word (« de », « la », « pour »…)
            continue
        term = stem
        if not known and suggestion:
            term = suggestion
            result.corrections[word] = suggestion
        if _TERM.match(term) and term not in result.terms:
            result.terms.append(term)
            estimates.append(int(documents) if known else 0)
            if forms and len(forms) <= LEXEME_FORMS:
                result.forms[term] = forms
    result.estimated_matches = min(estimates) if estimates else 0
    return result


# --- Place -----------------------------------------------------------------------------------


def resolve_place(text: str) -> Commune | None:
    """The commune meant by « Metz », « metz (57000) », « 57070 » or « Saint Etienne »:
    exact postal code, then exact name, then name prefix, then closest name; the most
    populated one when several match."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.search(r"\((\d{5})\)\s*$", text)
    code = match.group(1) if match else (text if re.fullmatch(r"\d{5}", text) else None)
    name = normalize(re.sub(r"\(\d{5}\)\s*$", "", text))
    by_population = ("-population", "name")
    if code:
        communes = Commune.objects.filter(postal_codes__contains=[code])
        if name:
            named = communes.filter(search_name=name).order_by(*by_population).first()
            if named:
                return named
        # The most precise commune first: « 75011 » is Paris 11e Arrondissement, not Paris.
        found = (
            communes.annotate(codes=Func(F("postal_codes"), 1, function="array_length", output_field=IntegerField()))
            .order_by("codes", *by_population)
            .first()
        )
        if found or not name:
            return found
    if not name:
        return None
    return (
        Commune.objects.filter(search_name=name).order_by(*by_population).first()
        or Commune.objects.filter(search_name__startswith=name).order_by(*by_population).first()
        or Commune.objects.filter(search_name__trigram_similar=name)
        .annotate(similarity=TrigramSimilarity("search_name", name))
        .order_by("-similarity", "-population")
        .first()
    )


def suggest_communes(prefix: str, *, limit: int = 10) -> list[Commune]:
    """Autocomplete of « Où ? »: by postal code prefix or by name prefix, biggest first."""
    prefix = (prefix or "").strip()
    if re.fullmatch(r"\d{2,5}", prefix):
        qs = Commune.objects.filter(postal_codes_text__contains=" " + prefix)
    else:
        name = normalize(prefix)
        if len(name) < 2:
            return []
        qs = Commune.objects.filter(Q(search_name__startswith=name) | Q(search_name__contains=" " + name))
    return list(qs.order_by("-population", "name")[:limit])


def coarse_cells(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> list[int]:
    """The 0.5° cells covering a bounding box, numbered as ``catalogue_place_cells`` numbers a
    session's position (migration 0018: from 10 000 000; the search no longer reads its 0.1°
    cells, below). Same float operations as PostgreSQL's (``lat * 2``), so a point
    inside the box is in one of the cells."""
    lats = range(math.floor(lat_min * 2), math.floor(lat_max * 2) + 1)
    lons = range(math.floor(lon_min * 2), math.floor(lon_max * 2) + 1)
    return [10_000_000 + (lat + 200) * 1000 + lon + 400 for lat in lats for lon in lons]


# --- The search --------------------------------------------------------------------------------

# A place search without keywords can match most of the catalogue (« all trainings within
# 100 km of Paris »). Past PROBE_SESSIONS matching sessions covering at least CAPPED_TOTAL
# formations, it answers « plus de 1 000 formations » and builds its pages without visiting
# every match: by growing the radius for the nearest ones, by streaming sessions in price
# order for the cheapest ones.
PROBE_SESSIONS = 4000
CAPPED_TOTAL = 1000


@dataclass
class _Plan:
    params: dict
    score: str  # SQL relevance expression on fi
    formation_where: str  # SQL conditions on fi
    filters_where: str  # the same but the words (tested by an index of the words and the cells)
    session_where: str  # SQL conditions on s
    session_filtered: bool  # price or date filters on sessions
    rated: bool = False  # sorted by rating: the score holds it
    # SQL on fi: the formation's cheapest open session (its index row's best_session_id) passes
    # the session filters; « false » when a filter needs its action.
    best_passes: str = "true"
    # SQL on u, a session of the index row's arrays (price, start): the price and date filters.
    array_where: str = "true"
    action_filtered: bool = False  # modality or rythm: only the sessions' actions tell
    dated: bool = False  # a start date filter (the arrays of starts are read only then)
    ranking_cte: str = ""  # « ranking AS (…), » when a precomputed ranking is tried (_use_ranking)


def search(query: SearchQuery, *, today: datetime.date) -> SearchResult:
    result = SearchResult(query=query)
    if query.is_empty:
        return result
    terms = tsquery_terms(query.keywords)
    result.corrections = terms.corrections
    if words(query.keywords) and not terms.terms:
        return result  # only stop words
    if query.commune is None or terms.terms:
        # Counted up to CAPPED_TOTAL: no page past « plus de 1 000 formations ».
        query.page = min(query.page, math.ceil(CAPPED_TOTAL / query.per_page))
    plan = _plan(query, terms.terms, today, terms.forms)
    if query.commune is None:
        ranking = _use_ranking(query, plan)
        rows = _fetch(_without_place_sql(query, plan), plan.params)
        result.ranked = ranking and _ranking_answers(query, rows)
        if ranking and not result.ranked:
            plan = _plan(query, terms.terms, today, terms.forms)  # every match read after all
            rows = _fetch(_without_place_sql(query, plan), plan.params)
        total = rows[0][3] if rows else 0
        result.total, result.total_capped = min(total, CAPPED_TOTAL), total > CAPPED_TOTAL
    elif not terms.terms:
        rows = _place_only(query, plan, result)
    else:
        strategy = _strategy(plan, terms)
        rows = _fetch(_with_place_sql(query, plan, strategy=strategy), plan.params)
        total = rows[0][3] if rows else 0
        result.total, result.total_capped = min(total, CAPPED_TOTAL), total > CAPPED_TOTAL
    result.rows = [(row[0], row[1], row[2]) for row in rows]
    return result


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _lexemes(term: str, forms: dict[str, list[str]], prefix: str = "") -> str:
    """A term in a tsquery: the exact words of the lexicon beginning with it when known and
    few (``tsquery_terms``), otherwise the term as a prefix; ``prefix`` before each word (a
    cell of the index of words around a place)."""
    if term in forms:
        quoted = ("'" + (prefix + word).replace("\\", "\\\\").replace("'", "''") + "'" for word in forms[term])
        return "(" + " | ".join(quoted) + ")"
    return f"'{prefix}{term}':*"


def _plan(query: SearchQuery, terms: list[str], today: datetime.date, forms: dict[str, list[str]] | None = None) -> _Plan:
    params: dict = {"today": today, "limit": query.per_page, "offset": (query.page - 1) * query.per_page}
    formation_where = ["fi.active", "fi.open_until >= %(today)s"]
    words_where = []  # tested by the index of the words and the cells with a place: apart
    score = "0"
    forms = forms or {}
    if terms:
        # In the words' alphabetical order: the same words typed in another order are the same
        # search (and the same ranking: the prefixes name it).
        params["tsquery"] = " & ".join(f"{term}:*" for term in sorted(terms))
        params["words"] = " & ".join(_lexemes(term, forms) for term in sorted(terms))
        params["words_any"] = " | ".join(_lexemes(term, forms) for term in sorted(terms))
        words_where.append("fi.document @@ %(words)s::tsquery")
        # Relevance: every word in the title first, then some words in it, then elsewhere
        # (one word: both tests are the same, made once).
        if len(terms) == 1:
            score = "(3 * (fi.title @@ %(words)s::tsquery)::int)"
        else:
            score = "(2 * (fi.title @@ %(words)s::tsquery)::int + (fi.title @@ %(words_any)s::tsquery)::int)"
    low, high = DURATIONS.get(query.duration, (None, None))
    if low is not None:
        formation_where.append("fi.duree_heures >= %(duration_min)s")
        params["duration_min"] = low
    if high is not None:
        formation_where.append("fi.duree_heures <= %(duration_max)s")
        params["duration_max"] = high
    if query.certification_type in Certification.Type.values:
        formation_where.append("fi.certification_type = %(certification_type)s")
        params["certification_type"] = query.certification_type
    if query.niveau in Certification.Niveau.values:
        formation_where.append("fi.niveau = %(niveau)s")
        params["niveau"] = query.niveau
    if query.min_rating in MIN_RATINGS:
        # The rating is a column of the index row: a filter like the others, no join.
        formation_where.append("fi.rating_average >= %(min_rating)s")
        params["min_rating"] = query.min_rating
    if _sort(query) == "note":
        # « Les mieux notées »: the rating first, then the relevance (0 to 3) — a step of the
        # rating (0,01) weighs more than any relevance — unrated formations last. Every path
        # already orders by the score, read on the index row it visits.
        score = f"(coalesce(fi.rating_average, 0) * 400 + {score})::float8"

    session_where = ["s.active", "(s.end_date IS NULL OR s.end_date >= %(today)s)"]
    best_where = ["fi.best_session_id IS NOT NULL"]
    array_where = []
    # Modality and rythm are the actions': the formations having such an action (index), then
    # the sessions of such an action (the card shows a session that matches).
    action_where = []
    if query.modalite in Modalite.values:
        formation_where.append("%(modalite)s = ANY (fi.modalites)")
        action_where.append("a.modalite = %(modalite)s")
        params["modalite"] = query.modalite
    if query.rythme in Rythme.values:
        formation_where.append("%(rythme)s = ANY (fi.rythmes)")
        action_where.append("%(rythme)s = ANY (a.rythmes)")
        params["rythme"] = query.rythme
    if action_where:
        session_where.append(f"EXISTS (SELECT 1 FROM catalogue_action a WHERE a.id = s.action_id AND {' AND '.join(action_where)})")
        best_where.append("false")
    if query.max_price_cents is not None:
        # A formation whose cheapest open session costs more has none under the price: it is
        # not read further (its sessions are not visited).
        formation_where.append("fi.min_price_cents <= %(max_price)s")
        session_where.append("s.price_cents <= %(max_price)s")
        array_where.append("u.price <= %(max_price)s")
        params["max_price"] = query.max_price_cents
    # best_start_date is empty for an « entrée permanente », as its start is for the sessions.
    if query.start_after:
        session_where.append("(s.permanent_entry OR s.start_date >= %(start_after)s)")
        best_where.append("(fi.best_start_date IS NULL OR fi.best_start_date >= %(start_after)s)")
        array_where.append("(u.start_date IS NULL OR u.start_date >= %(start_after)s)")
        params["start_after"] = query.start_after
    if query.start_before:
        session_where.append("(s.permanent_entry OR s.start_date <= %(start_before)s)")
        best_where.append("(fi.best_start_date IS NULL OR fi.best_start_date <= %(start_before)s)")
        array_where.append("(u.start_date IS NULL OR u.start_date <= %(start_before)s)")
        params["start_before"] = query.start_before

    if query.commune is not None:
        lat, lon = query.commune.latitude, query.commune.longitude
        params.update(lat=lat, lon=lon, radius=query.radius_km)
        params.update(zip(("lon_min", "lat_min", "lon_max", "lat_max"), bounding_box(lat, lon, query.radius_km), strict=False))
        if terms:
            # Each word in one of the 0.5° cells around the place (index of migration 0024).
            coarse = coarse_cells(params["lat_min"], params["lat_max"], params["lon_min"], params["lon_max"])
            # (A term's words in every cell, exact while they stay a few hundred index lookups.)
            few = {term: found for term, found in forms.items() if len(found) * len(coarse) <= 256}
            params["local_tsquery"] = " & ".join("(" + " | ".join(_lexemes(term, few, f"r{cell}") for cell in coarse) + ")" for term in terms)
    return _Plan(
        params=params,
        score=score,
        formation_where=" AND ".join([*formation_where[:2], *words_where, *formation_where[2:]]),
        filters_where=" AND ".join(formation_where),
        session_where=" AND ".join(session_where),
        session_filtered=len(session_where) > 2,
        rated=_sort(query) == "note",
        best_passes=" AND ".join(best_where),
        array_where=" AND ".join(array_where) or "true",
        action_filtered=bool(action_where),
        dated=bool(query.start_after or query.start_before),
    )


def _sort(query: SearchQuery) -> str:
    """The order asked for (by distance only makes sense with a place; « note » orders by the
    score, which then holds the rating)."""
    sort = query.sort if query.sort in SORTS else "pertinence"
    return "pertinence" if sort == "distance" and query.commune is None else sort


def _order_by(query: SearchQuery) -> str:
    sort = _sort(query)
    return {
        "pertinence": "score DESC, pick[1] ASC, pick[2] ASC, formation_id",
        "distance": "pick[1] ASC, score DESC, pick[2] ASC, formation_id",
        "prix": "pick[2] ASC, score DESC, pick[1] ASC, formation_id",
        "note": "score DESC, pick[1] ASC, pick[2] ASC, formation_id",
    }[sort]


_PICK_PRECOMPUTED = "ARRAY['Infinity'::float8, fi.min_price_cents, fi.best_session_id]"


# Relevance is 0 to 3 and a price at most 100 000 € (10^7 cents, far below 2^40): relevance and
# price fit in one bigint, a sort key that the top-N sort over tens of thousands of matches
# compares faster than two (« bureautique »: 25 000 matches sorted in 3 ms instead of 10).
_PRICE_BITS = 40


def _without_place_key(query: SearchQuery, plan: _Plan) -> str | None:
    """The sort key of the matches without a place (columns score, min_price_cents) as one
    bigint: relevance then price, or price then relevance; a formation without a price last.
    None when sorted by rating (the score is then a float)."""
    if plan.rated:
        return None
    price = f"coalesce(fi.min_price_cents, {(1 << _PRICE_BITS) - 1})"
    if _sort(query) == "prix":
        return f"{price} * 4 + (3 - score)"
    return f"((3 - score)::bigint << {_PRICE_BITS}) + {price}"


def _without_place_order(query: SearchQuery, plan: _Plan) -> str:
    key = _without_place_key(query, plan)
    return "score DESC, fi.min_price_cents" if key is None else key


def _without_place_sql(query: SearchQuery, plan: _Plan) -> str:
    """Keywords without a place. The matches are read once (one scan of the words' index),
    kept in memory, counted up to CAPPED_TOTAL + 1 and cut to the page by a top-N sort: no
    window over every match to count them all (« rncp » matches 57 000 formations)."""
    order = _without_place_order(query, plan)
    if not plan.session_filtered:
        matches = f"""
            SELECT fi.best_session_id AS session_id, {plan.score} AS score, fi.min_price_cents, fi.formation_id
            FROM catalogue_formationindex fi WHERE {plan.formation_where}"""
    else:
        # Each formation's cheapest session passing the filters: its cheapest open session,
        # from its index row, when that one passes (most do); otherwise the first in the same
        # order among its sessions (covering index on their formation). A formation without
        # one drops out. The page is ordered by that session's price.
        matches = f"""
            SELECT m.pick[2] AS session_id, m.score, m.pick[1] AS min_price_cents, m.formation_id FROM (
                SELECT fi.formation_id, {plan.score} AS score,
                       CASE WHEN {plan.best_passes} THEN ARRAY[fi.min_price_cents, fi.best_session_id] ELSE (
                           SELECT ARRAY[s.price_cents, s.id] FROM catalogue_session s
                           WHERE s.formation_id = fi.formation_id AND {plan.session_where}
                           ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id LIMIT 1
                       ) END AS pick
                FROM catalogue_formationindex fi WHERE {plan.formation_where}
                OFFSET 0
            ) AS m
            WHERE m.pick IS NOT NULL"""
    ranking = "(SELECT r.complete FROM ranking r), (SELECT r.last_key FROM ranking r), (SELECT r.last_id FROM ranking r)"
    return f"""
        WITH {plan.ranking_cte} matches AS MATERIALIZED ({matches})
        SELECT fi.session_id, NULL::float8 AS distance_km, fi.score,
               (SELECT count(*) FROM (SELECT 1 FROM matches LIMIT {CAPPED_TOTAL + 1}) AS counted) AS total,
               {_without_place_key(query, plan) or "NULL::bigint"} AS sort_key, fi.formation_id,
               {ranking if plan.ranking_cte else "NULL, NULL, NULL"}
        FROM matches AS fi
        ORDER BY {order}, fi.formation_id
        LIMIT %(limit)s OFFSET %(offset)s"""


# --- Precomputed rankings (catalogue.models.Ranking) ----------------------------------------

# A ranking keeps the first CAPPED_TOTAL + 1 + RANKING_MARGIN formations of its words: the
# margin lets the pages stay within it though formations changed since, and leaves room for
# filters that drop some.
RANKING_MARGIN = 500

# The formations a ranking's snapshot did not see change (their transaction not visible in
# it: committed after, or still running then), read up to CHANGES_READ log rows (a formation
# is logged once per statement writing it): past that, too many to be worth it.
CHANGES_SINCE_SQL = """
    SELECT array_agg(DISTINCT c.formation_id) AS ids, count(DISTINCT c.formation_id) AS formations, count(*) AS rows FROM (
        SELECT c.formation_id FROM catalogue_indexchange c
        WHERE c.xid >= pg_snapshot_xmin(r.snapshot::pg_snapshot) AND NOT pg_visible_in_snapshot(c.xid, r.snapshot::pg_snapshot)
        LIMIT %(changes_read)s
    ) AS c
"""

# The ranking of the search's words in its order, still valid today and with not too many
# changes since, as a CTE of the search itself: its formations, the changed ones and the
# matches are read in one statement, one snapshot.
_RANKING_CTE = f"""
ranking AS MATERIALIZED (
    SELECT r.formation_ids || coalesce(changed.ids, '{{}}') AS candidates, r.complete, r.last_key,
           r.formation_ids[cardinality(r.formation_ids)] AS last_id
    FROM catalogue_ranking r CROSS JOIN LATERAL ({CHANGES_SINCE_SQL}) AS changed
    WHERE r.tsquery = %(tsquery)s AND r.sort = %(ranking_sort)s AND r.computed_for <= %(today)s AND %(today)s <= r.valid_until
      AND changed.rows < %(changes_read)s
),"""


def changes_read() -> int:
    return 10 * RANKING_MARGIN


def ranking_size() -> int:
    return CAPPED_TOTAL + 1 + RANKING_MARGIN


def _rankable(query: SearchQuery, plan: _Plan) -> bool:
    """Words without a place, by relevance or by price (with or without filters): what a
    ranking may answer."""
    if query.page * query.per_page > CAPPED_TOTAL:
        return False  # never with 20 a page (the pages stop at the cap), kept for the proof below
    return "tsquery" in plan.params and not (plan.rated or query.commune is not None)


def _ranking_answers(query: SearchQuery, rows: list[tuple]) -> bool:
    """Do the rows read from a ranking's formations and the changed ones give the page and
    the count of a search over every match? (Columns 7 to 9: the ranking's ``complete``,
    ``last_key`` and last formation, NULL without one.) An unchanged formation matches now
    only if it did then, with the same words' score and the same cheapest open session, and
    none of the ranking's has closed since (``valid_until``); a filter only drops formations
    or gives them a dearer session, so a formation outside the ranking sorts after its last
    one, now as then. Hence: yes when the ranking held every match, or when the candidates
    alone pass the cap (« plus de 1 000 ») and the page's last row sorts before the
    ranking's last formation."""
    if not rows or rows[0][6] is None:
        return False  # no usable ranking (or nothing among its formations: every match tells)
    complete, last_key, last_id = rows[0][6:9]
    if complete:
        return True
    total = rows[0][3]
    if total <= CAPPED_TOTAL or len(rows) < query.per_page:
        return False
    return (rows[-1][4], rows[-1][5]) <= (last_key, last_id)


# Searches of several words that a ranking could serve are counted in a Redis sorted set
# (one ZINCRBY): beat ranks the popular ones (catalogue.services.rankings_refresh).
POPULAR_KEY = "catalogue:popular-searches"


def _redis():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _popular_key() -> str:
    """Counted per database (databases may share a Redis: a benchmark's two sizes, staging and
    production): popularity only chooses what is ranked, never a result."""
    where = connection.settings_dict
    return cache.make_key(f"{POPULAR_KEY}:{where.get('HOST')}:{where.get('PORT')}:{where['NAME']}")


def count_popular(tsquery: str) -> None:
    try:
        _redis().zincrby(_popular_key(), 1, tsquery)
    except (RedisError, NotImplementedError):
        logger.warning("Recherche non comptée (Redis indisponible)")


def popular_searches(*, min_searches: int, limit: int) -> list[str]:
    """The most searched words (as their tsquery), searched at least ``min_searches`` times."""
    try:
        found = _redis().zrevrangebyscore(_popular_key(), "+inf", min_searches, start=0, num=limit)
    except (RedisError, NotImplementedError):
        return []
    # Only what a search writes (terms of the vocabulary's alphabet), whatever Redis holds.
    return [tsquery for tsquery in (value.decode() for value in found) if all(_TERM.match(term) for term in terms_of(tsquery))]


def popular_decay() -> None:
    """Each night the counts are halved and those under one forgotten: popular means lately."""
    key = _popular_key()
    try:
        connection_ = _redis()
        connection_.zunionstore(key, {key: 0.5})
        connection_.zremrangebyscore(key, "-inf", "(1")
    except (RedisError, NotImplementedError):
        logger.warning("Compteurs de recherches non réduits (Redis indisponible)")


def terms_of(tsquery: str) -> list[str]:
    """« gestion:* & projet:* » → [« gestion », « projet »]."""
    return [part.removesuffix(":*") for part in tsquery.split(" & ")]


def _use_ranking(query: SearchQuery, plan: _Plan) -> bool:
    """Try the ranking of the words in this order: the search reads only its formations and
    those changed since its snapshot (``_ranking_answers`` then tells whether that was
    enough). A search of several words is counted for beat's ranking of the popular ones."""
    if not _rankable(query, plan):
        return False
    if " & " in plan.params["tsquery"]:
        count_popular(plan.params["tsquery"])
    plan.ranking_cte = _RANKING_CTE
    plan.params.update(ranking_sort=_sort(query), changes_read=changes_read())
    plan.formation_where += " AND fi.formation_id = ANY ((SELECT r.candidates FROM ranking r)::bigint[])"
    return True


def rank(terms: list[str], sort: str, *, today: datetime.date) -> None:
    """Compute (or recompute) the ranking of these words in this order: the first
    ranking_size() formations (``complete`` when they are all of them, otherwise the sort key
    of the last), the snapshot of the statement that read them, and the last day before one
    of them may close (the earliest end of their open sessions)."""
    query = SearchQuery(sort=sort)
    plan = _plan(query, terms, today)
    order = _without_place_order(query, plan)
    params = {**plan.params, "sort": _sort(query), "size": ranking_size()}
    _fetch(
        f"""
        INSERT INTO catalogue_ranking (tsquery, sort, snapshot, computed_for, valid_until, formation_ids, complete, last_key, computed_at)
        SELECT %(tsquery)s, %(sort)s, pg_current_snapshot()::text, %(today)s,
               coalesce(min(fi.open_until), '9999-12-31'::date),
               coalesce((array_agg(fi.formation_id ORDER BY {order}, fi.formation_id))[1:%(size)s], '{{}}'),
               count(*) <= %(size)s, (array_agg({order} ORDER BY {order}, fi.formation_id))[%(size)s], now()
        FROM (
            SELECT * FROM (
                SELECT fi.formation_id, fi.open_until, {plan.score} AS score, fi.min_price_cents
                FROM catalogue_formationindex fi WHERE {plan.formation_where}
            ) AS fi
            ORDER BY {order}, fi.formation_id
            LIMIT %(size)s + 1
        ) AS fi
        ON CONFLICT (tsquery, sort) DO UPDATE SET
            snapshot = EXCLUDED.snapshot, computed_for = EXCLUDED.computed_for, valid_until = EXCLUDED.valid_until,
            formation_ids = EXCLUDED.formation_ids, complete = EXCLUDED.complete, last_key = EXCLUDED.last_key,
            computed_at = EXCLUDED.computed_at
        RETURNING id""",
        params,
    )


# The planner cannot estimate how many sessions lie around a place (from a few dozen in the
# countryside to tens of thousands around Paris), so the place queries fix their join order
# themselves: LATERAL subqueries fenced with OFFSET 0 are nested loops, scalar subqueries on
# catalogue_formationindex are primary-key lookups, ``IN (SELECT … FROM <materialized CTE>)``
# is a hashed set.


def _near_communes_sql() -> str:
    """Communes in the bounding box (index on their coordinates) at most %(radius)s km away:
    the great-circle distance is computed once per commune."""
    return f"""
        SELECT near.* FROM (
            SELECT c.id, {haversine_sql("c")} AS km FROM catalogue_commune c
            WHERE c.latitude BETWEEN %(lat_min)s AND %(lat_max)s AND c.longitude BETWEEN %(lon_min)s AND %(lon_max)s
        ) AS near WHERE near.km <= %(radius)s"""


def _near_sessions_sql(plan: _Plan) -> str:
    """Open sessions of the communes around the place, commune by commune, from the
    covering index on sessions' commune."""
    return f"""
        SELECT s.id, s.formation_id, s.price_cents, c.km
        FROM ({_near_communes_sql()}) AS c
        CROSS JOIN LATERAL (
            SELECT s.id, s.formation_id, s.price_cents FROM catalogue_session s
            WHERE s.commune_id = c.id AND {plan.session_where}
            OFFSET 0
        ) AS s"""


def _formation_ok(plan: _Plan, column: str) -> str:
    """Primary-key lookup: is this formation published and does it pass the filters?"""
    return f"(SELECT {plan.formation_where} FROM catalogue_formationindex fi WHERE fi.formation_id = {column})"


def _strategy(plan: _Plan, terms: Terms) -> str:
    """With keywords and a place: start from the sessions around the place when they are
    fewer than the formations matching the words, otherwise from those formations. Both
    sizes are estimates from the search's statistics (sessions per commune, formations per
    word): one read of the communes around the place, no count of sessions."""
    near = _fetch(
        f"SELECT coalesce(sum(n.open_sessions), 0) FROM catalogue_commune n WHERE n.id IN (SELECT c.id FROM ({_near_communes_sql()}) AS c)",
        plan.params,
    )[0][0]
    # A primary-key probe per session costs about three times a matching formation's row.
    if 3 * near <= max(terms.estimated_matches, 1):
        return "near_first"
    return "formation_first" if plan.action_filtered else "arrays"


def _remote_where(plan: _Plan) -> str:
    """Remote formations (« À distance ») passing the words and the formation filters."""
    return f"fi.remote AND {plan.formation_where}"


def _remote_matches_sql(plan: _Plan, *, where: str = "") -> str:
    """Remote formations passing the filters, as (formation_id, pick, score); ``where``
    replaces the conditions (the same ones written for another index)."""
    where = where or _remote_where(plan)
    if not plan.session_filtered:
        return f"SELECT fi.formation_id, {_PICK_PRECOMPUTED} AS pick, {plan.score} AS score FROM catalogue_formationindex fi WHERE {where}"
    # Its cheapest open session from the index row when that one is remote (not among the
    # local ones) and passes; otherwise its first remote session passing, in the same order.
    return f"""
        SELECT r.formation_id, r.pick, r.score FROM (
            SELECT fi.formation_id, {plan.score} AS score,
                   CASE WHEN {plan.best_passes} AND NOT fi.best_session_id = ANY (fi.local_session_ids)
                        THEN {_PICK_PRECOMPUTED} ELSE (
                       SELECT ARRAY['Infinity'::float8, s.price_cents, s.id] FROM catalogue_session s
                       WHERE s.formation_id = fi.formation_id AND s.commune_id IS NULL AND {plan.session_where}
                       ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id LIMIT 1
                   ) END AS pick
            FROM catalogue_formationindex fi WHERE {where}
            OFFSET 0
        ) AS r
        WHERE r.pick IS NOT NULL"""


def _remote_rows_sql(query: SearchQuery, plan: _Plan) -> tuple[str, str]:
    """(top rows, count) of remote formations for a place without keywords: their order is by
    price (distance: infinite, relevance: equal), read in index order."""
    limit = "%(offset)s + %(limit)s"
    matches = _remote_matches_sql(plan)
    if not plan.session_filtered:
        return (
            f"{matches} ORDER BY {'score DESC, ' if plan.rated else ''}fi.min_price_cents, fi.formation_id LIMIT {limit}",
            f"SELECT count(*) FROM catalogue_formationindex fi WHERE {_remote_where(plan)}",
        )
    return f"SELECT * FROM ({matches}) AS r ORDER BY {_order_by(query)} LIMIT {limit}", f"SELECT count(*) FROM ({matches}) AS c"


def _union_page_sql(query: SearchQuery, local: str, remote: tuple[str, str] | None) -> str:
    """Page over local rows ∪ remote rows: each side cut at the page's end in the page's
    order; the total adds both counts (no window over every remote formation)."""
    order = _order_by(query)
    remote_rows, remote_count = remote if remote else ("SELECT NULL::bigint, NULL::float8[], NULL::int WHERE false", "0")
    return f"""
        WITH local AS MATERIALIZED ({local})
        SELECT pick[3]::bigint AS session_id, nullif(pick[1], 'Infinity'::float8) AS distance_km, score,
               counted.local_total + ({remote_count}) AS total, counted.local_total
        FROM (
            (SELECT * FROM local ORDER BY {order} LIMIT %(offset)s + %(limit)s)
            UNION ALL
            ({remote_rows})
        ) AS matches
        CROSS JOIN (SELECT count(*) AS local_total FROM local) AS counted
        ORDER BY {order}
        LIMIT %(limit)s OFFSET %(offset)s
    """


def _with_place_sql(query: SearchQuery, plan: _Plan, *, strategy: str) -> str:
    """Keywords and a place: the local matches by one of three paths, the remote ones from
    the index of remote formations (never through the set of every matching formation).

    - « near_first »: the sessions around the place, each formation looked up by primary key
      and tested there (words, filters): cost grows with the sessions around the place.
    - « arrays »: the formations having the words in one of the 0.5° cells around the place
      (an index of each word paired with each cell, migration 0024), each one's open sessions in
      a commune read from its own index row (positions, prices and starts side by side, the
      price and date filters tested there), without visiting the sessions.
    - « formation_first » (modality or rythm, which only the sessions' actions tell): the same
      formations, then their sessions from the covering index.

    The last two grow with the formations having the words around the place, not with every
    formation having them: « rncp » near Villeurbanne reads the few thousand of the Lyon area,
    not the 57 000 of France."""
    local_where = f"NOT fi.remote AND {plan.formation_where}"
    # Read through the index of each word in each 0.5° cell (migration 0024), which implies the
    # words; the filters tested on the rows read, written in coalesce() so that no other index
    # is intersected with it. The sessions' positions tell which are in the box: no test of the
    # formation's cells (a third of the rows' cost for a tenth of them dropped).
    local_indexed = f"catalogue_local_words(fi.document, fi.local_cells) @@ %(local_tsquery)s::tsquery AND coalesce(NOT fi.remote AND {plan.filters_where}, false)"
    if strategy == "near_first":
        # OFFSET 0 keeps the lookup a per-row primary-key probe (never a join that would
        # first gather every formation matching the words).
        local = f"""
            SELECT near.formation_id, min(ARRAY[near.km, near.price_cents, near.id]) AS pick, max(f.score) AS score
            FROM ({_near_sessions_sql(plan)}) AS near
            CROSS JOIN LATERAL (
                SELECT {plan.score} AS score FROM catalogue_formationindex fi
                WHERE fi.formation_id = near.formation_id AND {local_where}
                OFFSET 0
            ) AS f
            GROUP BY near.formation_id"""
    elif strategy == "arrays":
        # The arrays unnested in the select list, side by side (one pass over each array, no
        # table function and its buffer per formation: a third faster than a subquery per
        # row), each session in the box then at the right distance, the nearest (then
        # cheapest) kept per formation. The OFFSET 0 fences keep the distance computed once
        # per session.
        local = f"""
            SELECT u.formation_id, min(ARRAY[u.km, u.price, u.id]) AS pick, max(u.score) AS score FROM (
                SELECT u.formation_id, u.score, u.id, u.price, {haversine_sql("u")} AS km FROM (
                    SELECT fi.formation_id, {plan.score} AS score,
                           unnest(fi.local_session_ids) AS id, unnest(fi.local_latitudes) AS latitude,
                           unnest(fi.local_longitudes) AS longitude, unnest(fi.local_prices) AS price,
                           {"unnest(fi.local_start_dates)" if plan.dated else "NULL::date"} AS start_date
                    FROM catalogue_formationindex fi
                    WHERE {local_indexed}
                    OFFSET 0
                ) AS u
                WHERE u.latitude BETWEEN %(lat_min)s AND %(lat_max)s AND u.longitude BETWEEN %(lon_min)s AND %(lon_max)s
                  AND {plan.array_where}
                OFFSET 0
            ) AS u
            WHERE u.km <= %(radius)s
            GROUP BY u.formation_id"""
    else:
        local = f"""
            SELECT fi.formation_id, min(ARRAY[s.km, s.price_cents, s.id]) AS pick, max({plan.score}) AS score
            FROM catalogue_formationindex fi
            CROSS JOIN LATERAL (
                SELECT s.id, s.price_cents, {haversine_sql("s")} AS km FROM catalogue_session s
                WHERE s.formation_id = fi.formation_id AND s.commune_id IS NOT NULL AND {plan.session_where}
                  AND s.latitude BETWEEN %(lat_min)s AND %(lat_max)s AND s.longitude BETWEEN %(lon_min)s AND %(lon_max)s
                OFFSET 0
            ) AS s
            WHERE {local_indexed} AND s.km <= %(radius)s
            GROUP BY fi.formation_id"""
    return _capped_page_sql(query, plan, local)


def _capped_page_sql(query: SearchQuery, plan: _Plan, local: str) -> str:
    """Keywords and a place: the page over the local matches (every one read, each with its
    nearest session) and the remote ones, counted up to CAPPED_TOTAL + 1 like every other
    search (« plus de 1 000 formations »). The remote matches are read only when they can be
    on the page, at an infinite distance after the local ones of the same score: by distance
    or relevance once the local ones run out; by relevance before that, only those scoring
    more than the page's last local one (a word in their title: index of remote titles); by
    price or rating, always. Otherwise they are only counted, and only while the local ones
    leave the cap unreached (a scan of the remote words' index stopped early): « rncp »
    around Perpignan counts 635 of its 8 700 remote matches, « bureautique » around Nanterre
    none (4 000 local ones)."""
    order = _order_by(query)
    page_end = "%(offset)s + %(limit)s"
    parts = ["SELECT * FROM local_top"]
    remote_count, prefix = "0", ""
    if query.include_remote:
        sort = _sort(query)
        # One-time filters (on the local rows only): when false, the remote matches are not read.
        short = f"(SELECT local_total FROM counted) < {page_end}"
        every = short if sort in ("distance", "pertinence") else "true"
        prefix = f"remote AS MATERIALIZED ({_remote_matches_sql(plan)}),"
        parts.append(f"SELECT * FROM remote WHERE {every} ORDER BY {order} LIMIT {page_end}")
        if sort == "pertinence":
            better = f"fi.title @@ %(words_any)s::tsquery AND fi.remote AND fi.active AND coalesce({plan.formation_where}, false)"
            parts.append(f"""
                SELECT * FROM ({_remote_matches_sql(plan, where=better)}) AS r
                WHERE NOT {short} AND r.score > (SELECT min(score) FROM local_top)
                ORDER BY {order} LIMIT {page_end}""")
        room = f"{CAPPED_TOTAL + 1} - (SELECT local_total FROM counted)"
        remote_count = f"""CASE WHEN (SELECT local_total FROM counted) > {CAPPED_TOTAL} THEN 0
            WHEN {every} THEN (SELECT count(*) FROM (SELECT 1 FROM remote LIMIT {room}) AS c)
            ELSE (SELECT count(*) FROM (SELECT 1 FROM ({_remote_matches_sql(plan)}) AS r LIMIT {room}) AS c) END"""
    matches = " UNION ALL ".join(f"({part})" for part in parts)
    return f"""
        WITH {prefix} local AS MATERIALIZED ({local}),
        counted AS MATERIALIZED (SELECT count(*) AS local_total FROM local),
        local_top AS MATERIALIZED (SELECT * FROM local ORDER BY {order} LIMIT {page_end})
        SELECT pick[3]::bigint AS session_id, nullif(pick[1], 'Infinity'::float8) AS distance_km, score,
               counted.local_total + ({remote_count}) AS total, counted.local_total
        FROM ({matches}) AS matches
        CROSS JOIN counted
        ORDER BY {order}
        LIMIT %(limit)s OFFSET %(offset)s
    """


def _place_only_local_sql(plan: _Plan) -> str:
    if plan.rated:
        # The score (the rating) read by the same primary-key probe that tests the filters.
        return f"""
        SELECT g.formation_id, g.pick, f.score
        FROM (
            SELECT near.formation_id, min(ARRAY[near.km, near.price_cents, near.id]) AS pick
            FROM ({_near_sessions_sql(plan)}) AS near
            GROUP BY near.formation_id
        ) AS g
        CROSS JOIN LATERAL (
            SELECT {plan.score} AS score FROM catalogue_formationindex fi WHERE fi.formation_id = g.formation_id AND {plan.formation_where}
            OFFSET 0
        ) AS f"""
    return f"""
        SELECT g.formation_id, g.pick, 0 AS score
        FROM (
            SELECT near.formation_id, min(ARRAY[near.km, near.price_cents, near.id]) AS pick
            FROM ({_near_sessions_sql(plan)}) AS near
            GROUP BY near.formation_id
        ) AS g
        WHERE {_formation_ok(plan, "g.formation_id")}"""


def _place_only(query: SearchQuery, plan: _Plan, result: SearchResult) -> list[tuple]:
    """A place without keywords: exact when the matches are few, capped when they are many."""
    near = f"""
        SELECT near.formation_id FROM ({_near_sessions_sql(plan)}) AS near
        WHERE {_formation_ok(plan, "near.formation_id")}"""
    remote = _remote_rows_sql(query, plan) if query.include_remote else None
    if remote and not plan.session_filtered and _many_remote(plan):
        many = True  # more remote formations than CAPPED_TOTAL: no need to count the local ones
    else:
        probe = _fetch(f"SELECT count(*), count(DISTINCT formation_id) FROM ({near} LIMIT {PROBE_SESSIONS}) AS p", plan.params)[0]
        many = probe[0] >= PROBE_SESSIONS and probe[1] >= CAPPED_TOTAL
    if not many:
        rows = _fetch(_union_page_sql(query, _place_only_local_sql(plan), remote), plan.params)
        result.total = rows[0][3] if rows else 0
        return rows
    result.total = CAPPED_TOTAL
    result.total_capped = True
    if remote:
        remote = (remote[0], "0")  # the total is capped: the remote formations are not counted
    query.page = min(query.page, CAPPED_TOTAL // query.per_page)
    plan.params["offset"] = (query.page - 1) * query.per_page
    needed = query.page * query.per_page
    if _order_by(query).startswith("pick[2]"):
        return _cheapest_first(query, plan, remote, needed)
    return _nearest_first(query, plan, needed)


def _many_remote(plan: _Plan) -> bool:
    """Do more than CAPPED_TOTAL remote formations pass the filters? (Index on remote
    formations, stopped early.)"""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM catalogue_formationindex fi WHERE {_remote_where(plan)} LIMIT {CAPPED_TOTAL + 1}) AS r"
    return _fetch(sql, plan.params)[0][0] > CAPPED_TOTAL


def _nearest_first(query: SearchQuery, plan: _Plan, needed: int) -> list[tuple]:
    """The nearest formations are those within the smallest radius holding enough of them:
    grow the radius from 2 km until it does. (Remote formations, last by distance, are not
    reached: more than CAPPED_TOTAL local ones come first.)"""
    radius = min(2.0, query.radius_km)
    while True:
        params = {**plan.params, "radius": radius}
        params.update(zip(("lon_min", "lat_min", "lon_max", "lat_max"), bounding_box(params["lat"], params["lon"], radius), strict=False))
        rows = _fetch(_union_page_sql(query, _place_only_local_sql(plan), None), params)
        found = rows[0][3] if rows else 0
        if found >= needed or radius >= query.radius_km:
            return rows
        radius = min(query.radius_km, radius * 2)


def _cheapest_first(query: SearchQuery, plan: _Plan, remote, needed: int) -> list[tuple]:
    """The cheapest formations come first among the cheapest sessions: read the sessions in
    price order (price index, stopped early) whose commune is near, until they hold enough
    distinct formations. The communes around the place are fetched first and passed as an
    array: PostgreSQL tests ``= ANY`` of a constant array with a hash table, where a join to
    the same set inside the query became a nested loop over it for every session read. The
    test is written ``commune_id + 0`` so that no index on the commune can serve it: the
    planner, seeing the sessions of the communes around Paris in a covering index, otherwise
    read all 40 000 of them and their formations to sort them (140 ms instead of 10)."""
    near_ids = _fetch(f"SELECT coalesce(array_agg(c.id), '{{}}') FROM ({_near_communes_sql()}) AS c", plan.params)[0][0]
    params = {**plan.params, "near_ids": near_ids}
    sessions = 8 * needed
    while True:
        local = f"""
            SELECT g.formation_id, g.pick, 0 AS score
            FROM (
                SELECT cheap.formation_id, min(ARRAY[cheap.km, cheap.price_cents, cheap.id]) AS pick
                FROM (
                    SELECT s.id, s.formation_id, s.price_cents,
                           (SELECT {haversine_sql("c")} FROM catalogue_commune c WHERE c.id = s.commune_id) AS km
                    FROM catalogue_session s
                    WHERE s.commune_id IS NOT NULL AND s.commune_id + 0 = ANY (%(near_ids)s::bigint[])
                      AND {plan.session_where} AND {_formation_ok(plan, "s.formation_id")}
                    ORDER BY s.price_cents, s.id
                    LIMIT {sessions}
                ) AS cheap
                GROUP BY cheap.formation_id
            ) AS g"""
        rows = _fetch(_union_page_sql(query, local, remote), params)
        local_found = rows[0][4] if rows else 0
        if local_found >= needed or sessions >= 64 * needed:
            return rows
        sessions *= 2
