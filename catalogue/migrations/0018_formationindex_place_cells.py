"""Keywords and a place, read from one index: each search index row carries the grid cells
of its open sessions in a commune (a generated column, computed by PostgreSQL from the
positions the session triggers already keep, so it can never be stale), and one GIN index
holds the words and the cells side by side. A search for « rncp » around Villeurbanne then
reads only the formations having both the word and a session in the cells covering the
radius, instead of every formation having the word or every session around the place.

Two grids: 0.1° (about 11 km × 8 km in mainland France) for small radii, 0.5° for large ones
(``catalogue.search.place_cells`` chooses; it computes the cell numbers the same way)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models
from django.db.models import F, Func

CELLS_FUNCTION = """
CREATE FUNCTION catalogue_place_cells(lats float8[], lons float8[]) RETURNS integer[] AS $$
    SELECT coalesce(array_agg(DISTINCT cell ORDER BY cell), '{}') FROM (
        SELECT (floor(u.lat * 10)::integer + 1000) * 4000 + floor(u.lon * 10)::integer + 2000 AS cell
          FROM unnest(lats, lons) AS u(lat, lon) WHERE u.lat IS NOT NULL AND u.lon IS NOT NULL
        UNION ALL
        SELECT 10000000 + (floor(u.lat * 2)::integer + 200) * 1000 + floor(u.lon * 2)::integer + 400
          FROM unnest(lats, lons) AS u(lat, lon) WHERE u.lat IS NOT NULL AND u.lon IS NOT NULL
    ) AS cells
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0017_formation_rating"),
    ]

    operations = [
        migrations.RunSQL(CELLS_FUNCTION, "DROP FUNCTION catalogue_place_cells(float8[], float8[]);"),
        migrations.AddField(
            model_name="formationindex",
            name="local_cells",
            field=models.GeneratedField(
                expression=Func(F("local_latitudes"), F("local_longitudes"), function="catalogue_place_cells"),
                output_field=ArrayField(models.IntegerField()),
                db_persist=True,
            ),
        ),
        migrations.AddIndex(
            model_name="formationindex",
            index=GinIndex(fields=["document", "local_cells"], name="catalogue_fi_words_cells"),
        ),
    ]
