"""A suspended organisme's formations leave the search: the index row of a formation is
active only if the formation is published and its organisme is not suspended, and suspending
or reinstating an organisme re-indexes its formations (as a renamed one already did)."""

import importlib
import re

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION catalogue_index_formation() RETURNS trigger AS $$
DECLARE
    organisme_name text;
    organisme_suspended boolean;
    certification_text text;
    certification_type text;
BEGIN
    SELECT raison_sociale, suspended_at IS NOT NULL INTO organisme_name, organisme_suspended
      FROM catalogue_organisme WHERE id = NEW.organisme_id;
    SELECT concat_ws(' ', type, code, type || code, libelle, certificateur), type
      INTO certification_text, certification_type
      FROM catalogue_certification WHERE id = NEW.certification_id;
    INSERT INTO catalogue_formationindex AS fi
        (formation_id, title, document, duree_heures, certification_type, remote, active,
         open_until, min_price_cents, best_session_id,
         local_session_ids, local_latitudes, local_longitudes, local_prices)
    SELECT NEW.id,
           strip(to_tsvector('french_unaccent', NEW.intitule)),
           strip(to_tsvector('french_unaccent', concat_ws(' ', NEW.intitule, certification_text, organisme_name,
                 NEW.domaine, NEW.objectifs, NEW.contenu))),
           NEW.duree_heures, coalesce(certification_type, ''), NEW.modalite = 'distance',
           NEW.active AND NOT coalesce(organisme_suspended, false),
           summary.open_until, summary.min_price, summary.best,
           summary.local_ids, summary.local_lats, summary.local_lons, summary.local_prices
    FROM catalogue_sessions_summary(NEW.id) AS summary
    ON CONFLICT (formation_id) DO UPDATE
       SET title = EXCLUDED.title, document = EXCLUDED.document, duree_heures = EXCLUDED.duree_heures,
           certification_type = EXCLUDED.certification_type, remote = EXCLUDED.remote, active = EXCLUDED.active;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER catalogue_organisme_reindex ON catalogue_organisme;
CREATE TRIGGER catalogue_organisme_reindex
    AFTER UPDATE OF raison_sociale, suspended_at ON catalogue_organisme
    FOR EACH ROW WHEN (OLD.raison_sociale IS DISTINCT FROM NEW.raison_sociale OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at)
    EXECUTE FUNCTION catalogue_touch_formations();
"""


def _index_function_of_0005() -> str:
    before = importlib.import_module("catalogue.migrations.0005_formationindex_local_sessions").FORWARD
    return re.search(r"CREATE OR REPLACE FUNCTION catalogue_index_formation\(.*?\$\$ LANGUAGE plpgsql;", before, flags=re.S).group(0)


BACKWARD = (
    _index_function_of_0005()
    + """
DROP TRIGGER catalogue_organisme_reindex ON catalogue_organisme;
CREATE TRIGGER catalogue_organisme_reindex
    AFTER UPDATE OF raison_sociale ON catalogue_organisme
    FOR EACH ROW WHEN (OLD.raison_sociale IS DISTINCT FROM NEW.raison_sociale)
    EXECUTE FUNCTION catalogue_touch_formations();
"""
)


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0009_organisme_suspension")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
