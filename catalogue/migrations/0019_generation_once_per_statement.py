"""The catalogue's generation (0004) raised once per statement that changes the catalogue,
not once more per statement its row triggers run inside it.

Writing a formation rewrites its search index row from the formation's row trigger: one
nested statement per formation, each of which raised the generation again. Every raise
rewrites the same ``catalogue_generation`` row, so one transaction writing N formations
(an offer import, the seed, the night's refresh) left N versions of that row to walk through
on the next one: quadratic (200 000 formations seeded in one transaction took more than
12 minutes instead of about 3).

A nested statement of the scope « catalogue » always runs inside a statement on a catalogue
table, whose own trigger raises « catalogue » when it ends, in the same transaction: skipping
the nested raise leaves the committed generation exactly as new. Other scopes (« communes »)
are still raised wherever they are written."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION catalogue_generation_raise() RETURNS trigger AS $$
BEGIN
    IF pg_trigger_depth() > 1 AND TG_NARGS = 1 AND TG_ARGV[0] = 'catalogue' THEN
        RETURN NULL;  -- raised by the enclosing statement on a catalogue table when it ends
    END IF;
    INSERT INTO catalogue_generation AS g (scope, value)
    SELECT scope, nextval('catalogue_generation_seq') FROM unnest(TG_ARGV) AS scope
    ON CONFLICT (scope) DO UPDATE SET value = EXCLUDED.value;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def _function_of_0004() -> str:
    """The function as migration 0004 created it (for the way back), read from 0004 itself."""
    import importlib

    forward = importlib.import_module("catalogue.migrations.0004_generation").FORWARD
    start = forward.index("CREATE FUNCTION catalogue_generation_raise()")
    end = forward.index("$$ LANGUAGE plpgsql;", start) + len("$$ LANGUAGE plpgsql;")
    return "\n" + forward[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) + "\n"


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0018_formationindex_place_cells"),
    ]

    operations = [migrations.RunSQL(FUNCTION, _function_of_0004())]
