"""The search index row keeps the start of the formation's cheapest open session
(« best_start_date », empty for an « entrée permanente »): a search filtered on price or start
dates takes that session when it passes, and visits the formation's sessions only when it
does not. Beside the positions and prices of its open sessions in a commune, their starts
(« local_start_dates »): a search with keywords, a place and such filters reads only the
index rows. Written by the same summary functions as the other session columns (migrations
0005 and 0017), so they are refreshed with them on every session change and each night."""

import importlib

import django.contrib.postgres.fields

from django.db import migrations, models

SUMMARY = r"""
DROP FUNCTION catalogue_sessions_summary(bigint);
CREATE FUNCTION catalogue_sessions_summary(fid bigint, OUT open_until date, OUT min_price bigint, OUT best bigint,
    OUT local_ids bigint[], OUT local_lats float8[], OUT local_lons float8[], OUT local_prices bigint[],
    OUT best_start date, OUT local_starts date[]) AS $$
    SELECT max(coalesce(s.end_date, '9999-12-31'::date)),
           min(s.price_cents),
           (array_agg(s.id ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id))[1],
           coalesce(array_agg(s.id ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}'),
           coalesce(array_agg(s.latitude ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}'),
           coalesce(array_agg(s.longitude ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}'),
           coalesce(array_agg(s.price_cents ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}'),
           (array_agg(CASE WHEN s.permanent_entry THEN NULL ELSE s.start_date END ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id))[1],
           coalesce(array_agg(CASE WHEN s.permanent_entry THEN NULL ELSE s.start_date END ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}')
    FROM catalogue_session s
    WHERE s.formation_id = fid AND s.active AND (s.end_date IS NULL OR s.end_date >= catalogue_today())
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION catalogue_refresh_sessions_summary(ids bigint[]) RETURNS integer AS $$
DECLARE
    changed integer;
BEGIN
    WITH agg AS (
        SELECT fi.formation_id,
               max(coalesce(s.end_date, '9999-12-31'::date)) FILTER (WHERE s.id IS NOT NULL) AS open_until,
               min(s.price_cents) AS min_price,
               (array_agg(s.id ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id) FILTER (WHERE s.id IS NOT NULL))[1] AS best,
               coalesce(array_agg(s.id ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}') AS local_ids,
               coalesce(array_agg(s.latitude ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}') AS local_lats,
               coalesce(array_agg(s.longitude ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}') AS local_lons,
               coalesce(array_agg(s.price_cents ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{}') AS local_prices,
               (array_agg(CASE WHEN s.permanent_entry THEN NULL ELSE s.start_date END ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id)
                    FILTER (WHERE s.id IS NOT NULL))[1] AS best_start,
               coalesce(array_agg(CASE WHEN s.permanent_entry THEN NULL ELSE s.start_date END ORDER BY s.price_cents, s.id)
                    FILTER (WHERE s.commune_id IS NOT NULL), '{}') AS local_starts
        FROM catalogue_formationindex fi
        LEFT JOIN catalogue_session s
               ON s.formation_id = fi.formation_id AND s.active
              AND (s.end_date IS NULL OR s.end_date >= catalogue_today())
        WHERE ids IS NULL OR fi.formation_id = ANY (ids)
        GROUP BY fi.formation_id
    )
    UPDATE catalogue_formationindex fi
       SET open_until = agg.open_until, min_price_cents = agg.min_price, best_session_id = agg.best,
           local_session_ids = agg.local_ids, local_latitudes = agg.local_lats,
           local_longitudes = agg.local_lons, local_prices = agg.local_prices, best_start_date = agg.best_start,
           local_start_dates = agg.local_starts
      FROM agg
     WHERE fi.formation_id = agg.formation_id
       AND (fi.open_until, fi.min_price_cents, fi.best_session_id, fi.local_session_ids, fi.local_latitudes, fi.local_longitudes, fi.local_prices,
            fi.best_start_date, fi.local_start_dates)
           IS DISTINCT FROM (agg.open_until, agg.min_price, agg.best, agg.local_ids, agg.local_lats, agg.local_lons, agg.local_prices,
            agg.best_start, agg.local_starts);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$ LANGUAGE plpgsql;
"""


def _module(name: str):
    return importlib.import_module(f"catalogue.migrations.{name}")


def _index_function(with_best_start: bool) -> str:
    """The formation trigger function as migration 0017 left it, writing the new column too
    (or as it was)."""
    function = _module("0017_formation_rating")._index_function()
    if not with_best_start:
        return function
    replacements = {
        "local_session_ids, local_latitudes, local_longitudes, local_prices)": "local_session_ids, local_latitudes, local_longitudes, local_prices, best_start_date, local_start_dates)",
        "summary.local_ids, summary.local_lats, summary.local_lons, summary.local_prices\n": "summary.local_ids, summary.local_lats, summary.local_lons, summary.local_prices, summary.best_start, summary.local_starts\n",
    }
    for old, new in replacements.items():
        assert function.count(old) == 1, old
        function = function.replace(old, new)
    return function


def _summary_functions_of_0005() -> str:
    forward = _module("0005_formationindex_local_sessions").FORWARD
    return forward[: forward.index("CREATE OR REPLACE FUNCTION catalogue_index_formation()")]


FORWARD = SUMMARY + _index_function(True) + "SELECT catalogue_refresh_sessions_summary(NULL);\n"
BACKWARD = _summary_functions_of_0005() + _index_function(False)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0021_words_index_replaced"),
    ]

    operations = [
        migrations.AddField(
            model_name="formationindex",
            name="best_start_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="formationindex",
            name="local_start_dates",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.DateField(null=True), default=list, size=None),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
