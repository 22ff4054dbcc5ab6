"""Catalogue writes: organisme staff's formations, actions and sessions, favourites, the search
vocabulary. Views and commands call these; each runs in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from .models import Action, Favori, Formation, Organisme, SearchTerm, Session


@transaction.atomic
def formation_save(*, formation: Formation, organisme: Organisme) -> Formation:
    """Create or update one of the organisme's formations (already validated by its form)."""
    if formation.pk and formation.organisme_id != organisme.pk:
        raise ValidationError("Cette formation n'appartient pas à votre organisme.")
    formation.organisme = organisme
    formation.full_clean()
    formation.save()
    return formation


@transaction.atomic
def action_save(*, action: Action, formation: Formation) -> Action:
    """Create or update an action of ``formation``; its sessions take its new price and place
    and the formation's summaries follow (database triggers, migration 0014)."""
    if action.pk and action.formation_id != formation.pk:
        raise ValidationError("Cette action n'appartient pas à cette formation.")
    action.formation = formation
    if action.is_remote:
        action.commune, action.address = None, ""
    elif action.commune_id is None:
        raise ValidationError({"commune": "Indiquez la commune où se déroule l'action (ou la modalité « À distance »)."})
    action.full_clean()
    action.save()
    return action


@transaction.atomic
def formation_set_active(*, formation: Formation, active: bool) -> Formation:
    formation.active = active
    formation.save(update_fields=["active", "updated_at"])
    return formation


@transaction.atomic
def session_save(*, session: Session, action: Action) -> Session:
    session.follow(action)
    if session.permanent_entry and not session.start_date:
        session.end_date = None
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def session_set_active(*, session: Session, active: bool) -> Session:
    session.active = active
    session.save(update_fields=["active"])
    return session


def favori_add(*, user, formation: Formation) -> Favori:
    try:
        with transaction.atomic():
            return Favori.objects.create(user=user, formation=formation)
    except IntegrityError:  # already a favourite (double click): nothing to do
        return Favori.objects.get(user=user, formation=formation)


def favori_remove(*, user, formation: Formation) -> int:
    deleted, _ = Favori.objects.filter(user=user, formation=formation).delete()
    return deleted


def sessions_summary_refresh() -> int:
    """Recompute every formation's open-sessions summary (set-based). Run each night: a
    session that ended yesterday no longer counts, though nothing was written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT catalogue_refresh_sessions_summary(NULL)")
        return cursor.fetchone()[0]


@transaction.atomic
def search_terms_refresh() -> int:
    """Rebuild the search's statistics (set-based, in PostgreSQL): the vocabulary used to
    correct typos and to estimate how many formations a word matches (every lexeme of the
    published catalogue), and the number of open sessions of each commune. They choose a
    search's strategy, never its results."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE catalogue_commune c SET open_sessions = coalesce(n.sessions, 0)
            FROM catalogue_commune c2
            LEFT JOIN (
                SELECT s.commune_id, count(*) AS sessions FROM catalogue_session s
                WHERE s.commune_id IS NOT NULL AND s.active AND (s.end_date IS NULL OR s.end_date >= catalogue_today())
                GROUP BY s.commune_id
            ) AS n ON n.commune_id = c2.id
            WHERE c.id = c2.id AND c.open_sessions IS DISTINCT FROM coalesce(n.sessions, 0)
            """
        )
        cursor.execute(f"TRUNCATE {SearchTerm._meta.db_table}")
        cursor.execute(
            f"""
            INSERT INTO {SearchTerm._meta.db_table} (word, documents)
            SELECT word, ndoc FROM ts_stat('SELECT document FROM catalogue_formationindex WHERE active')
            WHERE length(word) BETWEEN 3 AND 100 AND word ~ '^[a-z0-9]+$'
            """
        )
        return cursor.rowcount


# A word matching fewer formations is searched fast enough from every match: no ranking.
RANKED_MIN_DOCUMENTS = 2000
# Searches of several words ranked too: the POPULAR_RANKED most searched lately, searched at
# least POPULAR_MIN_SEARCHES times (and matching RANKED_MIN_DOCUMENTS formations).
POPULAR_MIN_SEARCHES = 3
POPULAR_RANKED = 500


def rankings_refresh(*, today=None, stale_only: bool = False) -> int:
    """(Re)compute the precomputed rankings (``Ranking``) of every word of the vocabulary
    matching at least RANKED_MIN_DOCUMENTS formations and of the popular searches of several
    words (halving their counts, each night), by relevance and by price; with
    ``stale_only``, only those missing, past their ``valid_until`` or with more formations
    changed since than half their margin (a search would seldom keep their page beyond it).
    Then the change log is cut to what the oldest ranking still needs. Each ranking is one
    statement (its own snapshot), committed at once."""
    from django.utils import timezone

    from . import search
    from .models import Ranking

    today = today or timezone.localdate()
    words = SearchTerm.objects.filter(documents__gte=RANKED_MIN_DOCUMENTS).order_by("-documents").values_list("word", flat=True)
    queries = [f"{word}:*" for word in words] + _popular_queries()
    wanted = {(tsquery, sort): search.terms_of(tsquery) for tsquery in queries for sort in ("pertinence", "prix")}
    if stale_only:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT r.tsquery, r.sort, changed.formations, changed.rows
                FROM catalogue_ranking r CROSS JOIN LATERAL ({search.CHANGES_SINCE_SQL}) AS changed
                WHERE r.computed_for <= %(today)s AND %(today)s <= r.valid_until
                """,
                {"today": today, "changes_read": search.changes_read()},
            )
            for tsquery, sort, formations, rows in cursor.fetchall():
                # Fresh while the formations changed since are under half its margin.
                if formations <= search.RANKING_MARGIN // 2 and rows < search.changes_read() // 2:
                    wanted.pop((tsquery, sort), None)
    for (_, sort), terms in wanted.items():
        search.rank(terms, sort, today=today)
    if not stale_only:
        search.popular_decay()
    with transaction.atomic():
        Ranking.objects.exclude(tsquery__in=queries).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                DELETE FROM catalogue_indexchange WHERE xid < coalesce(
                    (SELECT min(pg_snapshot_xmin(snapshot::pg_snapshot)) FROM catalogue_ranking),
                    pg_snapshot_xmin(pg_current_snapshot()))
                """
            )
    return len(wanted)


def _popular_queries() -> list[str]:
    """The popular searches of several words that match enough formations to be worth a
    ranking (counted up to RANKED_MIN_DOCUMENTS)."""
    from . import search

    popular = []
    with connection.cursor() as cursor:
        for tsquery in search.popular_searches(min_searches=POPULAR_MIN_SEARCHES, limit=POPULAR_RANKED):
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM catalogue_formationindex fi WHERE fi.active AND fi.document @@ to_tsquery('simple', %s) LIMIT %s) AS m",
                [tsquery, RANKED_MIN_DOCUMENTS],
            )
            if cursor.fetchone()[0] >= RANKED_MIN_DOCUMENTS:
                popular.append(tsquery)
    return popular


@transaction.atomic
def organisme_suspend(*, organisme: Organisme, reason: str, by=None) -> Organisme:
    """An operator suspends an organisme: its formations leave the search at once (the search
    index follows by trigger) and no new dossier can be sent to it. Logged in the audit trail."""
    from django.utils import timezone

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la suspension.")
    organisme = Organisme.objects.select_for_update().get(pk=organisme.pk)
    organisme.suspended_at, organisme.suspension_reason = timezone.now(), reason
    organisme.save(update_fields=["suspended_at", "suspension_reason"])
    return organisme


@transaction.atomic
def organisme_reinstate(*, organisme: Organisme, by=None) -> Organisme:
    organisme = Organisme.objects.select_for_update().get(pk=organisme.pk)
    organisme.suspended_at, organisme.suspension_reason = None, ""
    organisme.save(update_fields=["suspended_at", "suspension_reason"])
    return organisme
