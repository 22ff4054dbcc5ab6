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


def _module(name: str):
    return importlib.import_module(f"catalogue.migrations.{name}")


def _replaced(text: str, replacements: dict[str, str]) -> str:
    """The earlier migration's SQL with each of these pieces (found exactly once) replaced."""
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


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
    return _replaced(function, replacements)


def _summary_functions_of_0005() -> str:
    forward = _module("0005_formationindex_local_sessions").FORWARD
    return forward[: forward.index("CREATE OR REPLACE FUNCTION catalogue_index_formation()")]


# The start of a session, empty for an « entrée permanente » (as its start is for the search).
START = "CASE WHEN s.permanent_entry THEN NULL ELSE s.start_date END"


def _summary_functions() -> str:
    """Migration 0005's summary functions, also giving the cheapest session's start and the
    local sessions' starts (same orders as the session ids beside them)."""
    functions = _summary_functions_of_0005()
    replacements = {
        # catalogue_sessions_summary(fid)
        "OUT local_prices bigint[]) AS $$": "OUT local_prices bigint[],\n    OUT best_start date, OUT local_starts date[]) AS $$",
        "FILTER (WHERE s.commune_id IS NOT NULL), '{}')\n    FROM catalogue_session s": (
            "FILTER (WHERE s.commune_id IS NOT NULL), '{}'),\n"
            f"           (array_agg({START} ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id))[1],\n"
            f"           coalesce(array_agg({START} ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{{}}')\n"
            "    FROM catalogue_session s"
        ),
        # catalogue_refresh_sessions_summary(ids)
        "AS local_prices\n": (
            "AS local_prices,\n"
            f"               (array_agg({START} ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id) FILTER (WHERE s.id IS NOT NULL))[1] AS best_start,\n"
            f"               coalesce(array_agg({START} ORDER BY s.price_cents, s.id) FILTER (WHERE s.commune_id IS NOT NULL), '{{}}') AS local_starts\n"
        ),
        "local_prices = agg.local_prices\n": "local_prices = agg.local_prices,\n           best_start_date = agg.best_start, local_start_dates = agg.local_starts\n",
        "fi.local_longitudes, fi.local_prices)": "fi.local_longitudes, fi.local_prices,\n            fi.best_start_date, fi.local_start_dates)",
        "agg.local_lons, agg.local_prices);": "agg.local_lons, agg.local_prices,\n            agg.best_start, agg.local_starts);",
    }
    return _replaced(functions, replacements)


FORWARD = _summary_functions() + _index_function(True) + "SELECT catalogue_refresh_sessions_summary(NULL);\n"
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
