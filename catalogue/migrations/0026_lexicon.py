"""Every word (lexeme) the search index has ever held, kept by statement triggers in the
transaction that writes it, never removed: the search turns each typed word, a prefix, into
the exact words that begin with it (« gestion » → gestion | gestionnair) when they are few.
A GIN index reads an exact word's postings faster than it gathers a prefix's: « français
langue étrangère » 27 → 16 ms. A word no formation holds any more only costs an index lookup
that finds nothing, so the lexicon may keep more than the index, never less."""

from django.db import migrations

FORWARD = """
CREATE TABLE catalogue_lexeme (word text COLLATE "C" PRIMARY KEY);
INSERT INTO catalogue_lexeme (word)
    SELECT DISTINCT unnest(tsvector_to_array(document)) FROM catalogue_formationindex ON CONFLICT DO NOTHING;

CREATE FUNCTION catalogue_add_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalogue_lexeme (word)
            SELECT DISTINCT unnest(tsvector_to_array(n.document)) FROM new_rows n
            ON CONFLICT DO NOTHING;
    ELSE
        -- Only the rows whose words changed (the nightly summaries rewrite prices, not words).
        INSERT INTO catalogue_lexeme (word)
            SELECT DISTINCT unnest(tsvector_to_array(n.document))
            FROM new_rows n JOIN old_rows o USING (formation_id) WHERE n.document IS DISTINCT FROM o.document
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER catalogue_formationindex_lexemes_insert AFTER INSERT ON catalogue_formationindex
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalogue_add_lexemes();
CREATE TRIGGER catalogue_formationindex_lexemes_update AFTER UPDATE ON catalogue_formationindex
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalogue_add_lexemes();
"""

BACKWARD = """
DROP TRIGGER catalogue_formationindex_lexemes_insert ON catalogue_formationindex;
DROP TRIGGER catalogue_formationindex_lexemes_update ON catalogue_formationindex;
DROP FUNCTION catalogue_add_lexemes();
DROP TABLE catalogue_lexeme;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0025_remote_titles"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
