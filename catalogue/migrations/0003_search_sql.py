"""PostgreSQL objects the ORM cannot declare, for « Rechercher une formation »:

- the French accent-insensitive text search configuration ``french_unaccent``;
- triggers that keep ``catalogue_formationindex`` (the search's lean copy of each formation)
  up to date: its vectors and filter columns when a formation, its organisme or its
  certification change, its open-sessions summary when a session changes;
- sessions' coordinates copied from their commune (the covering indexes that read them are
  declared on the model).
"""

from django.db import migrations

FORWARD = r"""
CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
ALTER TEXT SEARCH CONFIGURATION french_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

-- Today in France, whatever the server's time zone.
CREATE FUNCTION catalogue_today() RETURNS date AS $$
    SELECT (now() AT TIME ZONE 'Europe/Paris')::date
$$ LANGUAGE sql STABLE;

-- A formation's open sessions: last end date (9999-12-31: permanent entry), cheapest price,
-- the session shown in results (cheapest, then earliest).
CREATE FUNCTION catalogue_sessions_summary(fid bigint, OUT open_until date, OUT min_price bigint, OUT best bigint) AS $$
    SELECT max(coalesce(s.end_date, '9999-12-31'::date)),
           min(s.price_cents),
           (array_agg(s.id ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id))[1]
    FROM catalogue_session s
    WHERE s.formation_id = fid AND s.active AND (s.end_date IS NULL OR s.end_date >= catalogue_today())
$$ LANGUAGE sql STABLE;

-- Refresh the summary of some formations (all of them when ids is NULL), set-based; rows
-- whose summary did not change are not rewritten.
CREATE FUNCTION catalogue_refresh_sessions_summary(ids bigint[]) RETURNS integer AS $$
DECLARE
    changed integer;
BEGIN
    WITH agg AS (
        SELECT fi.formation_id,
               max(coalesce(s.end_date, '9999-12-31'::date)) FILTER (WHERE s.id IS NOT NULL) AS open_until,
               min(s.price_cents) AS min_price,
               (array_agg(s.id ORDER BY s.price_cents, s.start_date NULLS FIRST, s.id) FILTER (WHERE s.id IS NOT NULL))[1] AS best
        FROM catalogue_formationindex fi
        LEFT JOIN catalogue_session s
               ON s.formation_id = fi.formation_id AND s.active
              AND (s.end_date IS NULL OR s.end_date >= catalogue_today())
        WHERE ids IS NULL OR fi.formation_id = ANY (ids)
        GROUP BY fi.formation_id
    )
    UPDATE catalogue_formationindex fi
       SET open_until = agg.open_until, min_price_cents = agg.min_price, best_session_id = agg.best
      FROM agg
     WHERE fi.formation_id = agg.formation_id
       AND (fi.open_until, fi.min_price_cents, fi.best_session_id) IS DISTINCT FROM (agg.open_until, agg.min_price, agg.best);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$ LANGUAGE plpgsql;

-- The searchable text is what the titulaire searches by: intitulé, objectifs, contenu,
-- organisme, certification (and the domain).
CREATE FUNCTION catalogue_index_formation() RETURNS trigger AS $$
DECLARE
    organisme_name text;
    certification_text text;
    certification_type text;
BEGIN
    SELECT raison_sociale INTO organisme_name FROM catalogue_organisme WHERE id = NEW.organisme_id;
    SELECT concat_ws(' ', type, code, type || code, libelle, certificateur), type
      INTO certification_text, certification_type
      FROM catalogue_certification WHERE id = NEW.certification_id;
    INSERT INTO catalogue_formationindex AS fi
        (formation_id, title, document, duree_heures, certification_type, remote, active,
         open_until, min_price_cents, best_session_id)
    SELECT NEW.id,
           strip(to_tsvector('french_unaccent', NEW.intitule)),
           strip(to_tsvector('french_unaccent', concat_ws(' ', NEW.intitule, certification_text, organisme_name,
                 NEW.domaine, NEW.objectifs, NEW.contenu))),
           NEW.duree_heures, coalesce(certification_type, ''), NEW.modalite = 'distance', NEW.active,
           summary.open_until, summary.min_price, summary.best
    FROM catalogue_sessions_summary(NEW.id) AS summary
    ON CONFLICT (formation_id) DO UPDATE
       SET title = EXCLUDED.title, document = EXCLUDED.document, duree_heures = EXCLUDED.duree_heures,
           certification_type = EXCLUDED.certification_type, remote = EXCLUDED.remote, active = EXCLUDED.active;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalogue_formation_index
    AFTER INSERT OR UPDATE OF intitule, objectifs, contenu, description, resultats_attendus, domaine,
        organisme_id, certification_id, duree_heures, modalite, active
    ON catalogue_formation FOR EACH ROW EXECUTE FUNCTION catalogue_index_formation();

-- A renamed organisme or a changed certification re-indexes its formations.
CREATE FUNCTION catalogue_touch_formations() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'catalogue_organisme' THEN
        UPDATE catalogue_formation SET organisme_id = organisme_id WHERE organisme_id = NEW.id;
    ELSE
        UPDATE catalogue_formation SET certification_id = certification_id WHERE certification_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER catalogue_organisme_reindex
    AFTER UPDATE OF raison_sociale ON catalogue_organisme
    FOR EACH ROW WHEN (OLD.raison_sociale IS DISTINCT FROM NEW.raison_sociale)
    EXECUTE FUNCTION catalogue_touch_formations();
CREATE TRIGGER catalogue_certification_reindex
    AFTER UPDATE OF type, code, libelle, certificateur ON catalogue_certification
    FOR EACH ROW EXECUTE FUNCTION catalogue_touch_formations();

-- Sessions: coordinates from the commune, then the formation's summary.
CREATE FUNCTION catalogue_session_place() RETURNS trigger AS $$
BEGIN
    IF NEW.commune_id IS NULL THEN
        NEW.latitude := NULL;
        NEW.longitude := NULL;
    ELSE
        SELECT latitude, longitude INTO NEW.latitude, NEW.longitude FROM catalogue_commune WHERE id = NEW.commune_id;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER catalogue_session_place
    BEFORE INSERT OR UPDATE OF commune_id ON catalogue_session
    FOR EACH ROW EXECUTE FUNCTION catalogue_session_place();

CREATE FUNCTION catalogue_session_summary() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM catalogue_refresh_sessions_summary(ARRAY[OLD.formation_id]);
    ELSIF TG_OP = 'UPDATE' AND OLD.formation_id <> NEW.formation_id THEN
        PERFORM catalogue_refresh_sessions_summary(ARRAY[OLD.formation_id, NEW.formation_id]);
    ELSE
        PERFORM catalogue_refresh_sessions_summary(ARRAY[NEW.formation_id]);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER catalogue_session_summary
    AFTER INSERT OR UPDATE OR DELETE ON catalogue_session
    FOR EACH ROW EXECUTE FUNCTION catalogue_session_summary();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS catalogue_session_summary ON catalogue_session;
DROP FUNCTION IF EXISTS catalogue_session_summary();
DROP TRIGGER IF EXISTS catalogue_session_place ON catalogue_session;
DROP FUNCTION IF EXISTS catalogue_session_place();
DROP TRIGGER IF EXISTS catalogue_certification_reindex ON catalogue_certification;
DROP TRIGGER IF EXISTS catalogue_organisme_reindex ON catalogue_organisme;
DROP FUNCTION IF EXISTS catalogue_touch_formations();
DROP TRIGGER IF EXISTS catalogue_formation_index ON catalogue_formation;
DROP FUNCTION IF EXISTS catalogue_index_formation();
DROP FUNCTION IF EXISTS catalogue_refresh_sessions_summary(bigint[]);
DROP FUNCTION IF EXISTS catalogue_sessions_summary(bigint);
DROP FUNCTION IF EXISTS catalogue_today();
DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;
"""


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_catalogue_models")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
