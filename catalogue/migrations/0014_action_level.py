"""The offer in three levels, like EDOF: formation → action (place, modality, rythm, duration,
price and VAT, prérequis, contact) → session (dates, registration window, places).
Sessions keep copies of their action's price and place (trigger) for the search's covering
indexes; formations keep summaries of their actions for the search index."""

import accounts.phones
import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import uuid
from django.db import migrations, models


def _index_function_of_0013() -> str:
    import importlib

    return importlib.import_module("catalogue.migrations.0013_action_types").INDEX_FUNCTION


def _index_function() -> str:
    """The index function of 0013, also writing the modalities and rythms."""
    function = _index_function_of_0013().replace(
        "(formation_id, title, document, duree_heures, certification_type, niveau, remote, active,",
        "(formation_id, title, document, duree_heures, certification_type, niveau, modalites, rythmes, remote, active,",
    )
    function = function.replace(
        "coalesce(certification_niveau, ''), NEW.modalite = 'distance',",
        "coalesce(certification_niveau, ''), NEW.modalites, NEW.rythmes, NEW.modalite = 'distance',",
    )
    function = function.replace(
        "certification_type = EXCLUDED.certification_type, niveau = EXCLUDED.niveau,",
        "certification_type = EXCLUDED.certification_type, niveau = EXCLUDED.niveau,\n           modalites = EXCLUDED.modalites, rythmes = EXCLUDED.rythmes,",
    )
    assert function.count("NEW.rythmes") == 1 and function.count("EXCLUDED.rythmes") == 1
    return function


# Each formation's sessions become actions: one per distinct place and price (what a session
# carried); the formation's prérequis, VAT and contact go to each of its actions. A formation
# without sessions keeps its description in one action (à distance, price 0) to be completed.
ACTIONS_FROM_SESSIONS = """
INSERT INTO catalogue_action
    (public_id, formation_id, reference, modalite, rythmes, modalites_pedagogiques, prerequis, duree_heures, heures_hebdo,
     price_cents, tva, address, commune_id, contact_name, contact_email, contact_phone, created_at, updated_at)
SELECT gen_random_uuid(), f.id, '',
       CASE WHEN g.commune_id IS NULL THEN 'distance' WHEN f.modalite = 'distance' THEN 'presentiel' ELSE f.modalite END,
       '{}', '', f.prerequis, coalesce(f.duree_heures, 1), NULL, coalesce(g.price_cents, 0), f.tva, coalesce(g.address, ''), g.commune_id,
       f.contact_name, f.contact_email, f.contact_phone, now(), now()
FROM catalogue_formation f
LEFT JOIN (SELECT DISTINCT formation_id, commune_id, address, price_cents FROM catalogue_session) g ON g.formation_id = f.id;
UPDATE catalogue_session s SET action_id = a.id
  FROM catalogue_action a
 WHERE a.formation_id = s.formation_id AND a.commune_id IS NOT DISTINCT FROM s.commune_id
   AND a.address = s.address AND a.price_cents = s.price_cents;
UPDATE catalogue_formation f SET modalites = agg.modalites
  FROM (SELECT formation_id, array_agg(DISTINCT modalite ORDER BY modalite) AS modalites FROM catalogue_action GROUP BY formation_id) agg
 WHERE agg.formation_id = f.id;
UPDATE catalogue_formationindex fi SET modalites = f.modalites FROM catalogue_formation f WHERE f.id = fi.formation_id;
"""

TRIGGERS = (
    """
-- A session takes its action's formation, price and place (then its coordinates, trigger
-- catalogue_session_place, which runs after this one: triggers fire in name order).
CREATE FUNCTION catalogue_session_action() RETURNS trigger AS $$
BEGIN
    SELECT formation_id, price_cents, commune_id, address INTO NEW.formation_id, NEW.price_cents, NEW.commune_id, NEW.address
      FROM catalogue_action WHERE id = NEW.action_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER catalogue_session_action
    BEFORE INSERT OR UPDATE ON catalogue_session
    FOR EACH ROW EXECUTE FUNCTION catalogue_session_action();

-- An action changed: its sessions follow (their summary triggers refresh the search index),
-- and its formation's summaries of the actions are recomputed (re-indexing it).
CREATE FUNCTION catalogue_action_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE catalogue_session s
           SET formation_id = NEW.formation_id, price_cents = NEW.price_cents, commune_id = NEW.commune_id, address = NEW.address
         WHERE s.action_id = NEW.id
           AND (s.formation_id, s.price_cents, s.commune_id, s.address) IS DISTINCT FROM (NEW.formation_id, NEW.price_cents, NEW.commune_id, NEW.address);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM catalogue_summarise_actions(OLD.formation_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR OLD.formation_id <> NEW.formation_id) THEN
        PERFORM catalogue_summarise_actions(NEW.formation_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE FUNCTION catalogue_summarise_actions(fid bigint) RETURNS void AS $$
    UPDATE catalogue_formation f
       SET duree_heures = agg.duree, modalite = coalesce(agg.modalite, f.modalite),
           modalites = coalesce(agg.modalites, '{}'), rythmes = coalesce(agg.rythmes, '{}')
      FROM (
        SELECT min(a.duree_heures) AS duree,
               CASE WHEN count(DISTINCT a.modalite) = 1 THEN min(a.modalite) WHEN count(*) > 0 THEN 'mixte' END AS modalite,
               array_agg(DISTINCT a.modalite ORDER BY a.modalite) FILTER (WHERE a.id IS NOT NULL) AS modalites,
               (SELECT array_agg(DISTINCT r ORDER BY r) FROM catalogue_action a2, unnest(a2.rythmes) AS r WHERE a2.formation_id = fid) AS rythmes
        FROM catalogue_action a WHERE a.formation_id = fid
      ) agg
     WHERE f.id = fid
       AND (f.duree_heures, f.modalite, f.modalites, f.rythmes)
           IS DISTINCT FROM (agg.duree, coalesce(agg.modalite, f.modalite), coalesce(agg.modalites, '{}'), coalesce(agg.rythmes, '{}'));
$$ LANGUAGE sql;
CREATE TRIGGER catalogue_action_changed
    AFTER INSERT OR UPDATE OR DELETE ON catalogue_action
    FOR EACH ROW EXECUTE FUNCTION catalogue_action_changed();
-- What the pages show of an action (rythm, prérequis…) changes the catalogue's generation (0004).
CREATE TRIGGER catalogue_action_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalogue_action
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_generation_raise('catalogue');

-- The formation's index row keeps the modalities and rythms of its actions (search facets).
DROP TRIGGER catalogue_formation_index ON catalogue_formation;
CREATE TRIGGER catalogue_formation_index
    AFTER INSERT OR UPDATE OF intitule, objectifs, contenu, description, resultats_attendus, domaine,
        organisme_id, certification_id, duree_heures, modalite, modalites, rythmes, active
    ON catalogue_formation FOR EACH ROW EXECUTE FUNCTION catalogue_index_formation();
"""
    + _index_function()
    + """
UPDATE catalogue_formation f SET duree_heures = f.duree_heures;
"""
)

BACKWARD = """
DROP TRIGGER catalogue_action_generation ON catalogue_action;
DROP TRIGGER catalogue_action_changed ON catalogue_action;
DROP FUNCTION catalogue_action_changed();
DROP FUNCTION catalogue_summarise_actions(bigint);
DROP TRIGGER catalogue_session_action ON catalogue_session;
DROP FUNCTION catalogue_session_action();
DROP TRIGGER catalogue_formation_index ON catalogue_formation;
CREATE TRIGGER catalogue_formation_index
    AFTER INSERT OR UPDATE OF intitule, objectifs, contenu, description, resultats_attendus, domaine,
        organisme_id, certification_id, duree_heures, modalite, active
    ON catalogue_formation FOR EACH ROW EXECUTE FUNCTION catalogue_index_formation();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0013_action_types"),
    ]

    operations = [
        migrations.AddField(
            model_name="formation",
            name="modalites",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[("presentiel", "En présentiel"), ("distance", "À distance"), ("mixte", "Mixte (présentiel et à distance)")],
                    max_length=10,
                ),
                db_default="{}",
                default=list,
                editable=False,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="formation",
            name="rythmes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[("journee", "En journée"), ("soiree", "En soirée"), ("weekend", "Le week-end"), ("temps_partiel", "À temps partiel")],
                    max_length=15,
                ),
                db_default="{}",
                default=list,
                editable=False,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="formationindex",
            name="modalites",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=10), db_default="{}", default=list, size=None),
        ),
        migrations.AddField(
            model_name="formationindex",
            name="rythmes",
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=15), db_default="{}", default=list, size=None),
        ),
        migrations.AddField(
            model_name="session",
            name="registration_closes",
            field=models.DateField(blank=True, null=True, verbose_name="inscriptions jusqu'au"),
        ),
        migrations.AddField(
            model_name="session",
            name="registration_opens",
            field=models.DateField(blank=True, null=True, verbose_name="inscriptions à partir du"),
        ),
        migrations.AlterField(
            model_name="formation",
            name="duree_heures",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name="durée en heures"),
        ),
        migrations.AlterField(
            model_name="formation",
            name="modalite",
            field=models.CharField(
                choices=[("presentiel", "En présentiel"), ("distance", "À distance"), ("mixte", "Mixte (présentiel et à distance)")],
                default="presentiel",
                editable=False,
                max_length=10,
                verbose_name="modalité",
            ),
        ),
        migrations.AlterField(
            model_name="formationindex",
            name="duree_heures",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.AlterField(
            model_name="session",
            name="address",
            field=models.CharField(blank=True, editable=False, max_length=200, verbose_name="adresse du lieu"),
        ),
        migrations.AlterField(
            model_name="session",
            name="commune",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="catalogue.commune",
            ),
        ),
        migrations.AlterField(
            model_name="session",
            name="formation",
            field=models.ForeignKey(
                db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, related_name="sessions", to="catalogue.formation"
            ),
        ),
        migrations.AlterField(
            model_name="session",
            name="price_cents",
            field=models.BigIntegerField(editable=False, verbose_name="prix TTC (centimes)"),
        ),
        migrations.CreateModel(
            name="Action",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("reference", models.CharField(blank=True, db_default="", max_length=80, verbose_name="identifiant de l'action chez l'organisme")),
                (
                    "modalite",
                    models.CharField(
                        choices=[("presentiel", "En présentiel"), ("distance", "À distance"), ("mixte", "Mixte (présentiel et à distance)")],
                        default="presentiel",
                        max_length=10,
                        verbose_name="modalité",
                    ),
                ),
                (
                    "rythmes",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("journee", "En journée"),
                                ("soiree", "En soirée"),
                                ("weekend", "Le week-end"),
                                ("temps_partiel", "À temps partiel"),
                            ],
                            max_length=15,
                        ),
                        blank=True,
                        default=list,
                        size=None,
                        verbose_name="rythme",
                    ),
                ),
                ("modalites_pedagogiques", models.TextField(blank=True, verbose_name="modalités pédagogiques")),
                ("prerequis", models.TextField(blank=True, verbose_name="prérequis")),
                (
                    "duree_heures",
                    models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(1)], verbose_name="durée indicative en heures"),
                ),
                (
                    "heures_hebdo",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name="durée hebdomadaire en heures"
                    ),
                ),
                ("price_cents", models.BigIntegerField(verbose_name="prix TTC (centimes)")),
                (
                    "tva",
                    models.PositiveSmallIntegerField(
                        choices=[(0, "Exonérée de TVA (article 261-4-4° du CGI)"), (550, "5,5 %"), (2000, "20 %")], default=0, verbose_name="TVA"
                    ),
                ),
                ("address", models.CharField(blank=True, max_length=200, verbose_name="adresse du lieu")),
                ("contact_name", models.CharField(blank=True, max_length=200, verbose_name="nom du contact d'inscription")),
                ("contact_email", models.EmailField(blank=True, max_length=254, verbose_name="courriel du contact d'inscription")),
                (
                    "contact_phone",
                    models.CharField(
                        blank=True, max_length=10, validators=[accounts.phones.validate_any], verbose_name="téléphone du contact d'inscription"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "commune",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="actions", to="catalogue.commune"
                    ),
                ),
                ("formation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="actions", to="catalogue.formation")),
            ],
            options={
                "verbose_name": "action de formation",
                "verbose_name_plural": "actions de formation",
                "ordering": ["formation", "id"],
            },
        ),
        migrations.AddField(
            model_name="session",
            name="action",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="sessions", to="catalogue.action"),
        ),
        migrations.AddConstraint(
            model_name="session",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("registration_opens__isnull", True),
                    ("registration_closes__isnull", True),
                    ("registration_closes__gte", models.F("registration_opens")),
                    _connector="OR",
                ),
                name="catalogue_session_registration_window",
            ),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.CheckConstraint(condition=models.Q(("duree_heures__gt", 0)), name="catalogue_action_duree_positive"),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.CheckConstraint(condition=models.Q(("price_cents__gte", 0)), name="catalogue_action_price_positive"),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.CheckConstraint(
                condition=models.Q(("heures_hebdo__isnull", True), ("heures_hebdo__gt", 0), _connector="OR"), name="catalogue_action_hebdo_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.CheckConstraint(
                condition=models.Q(("modalite", "distance"), ("commune__isnull", False), _connector="OR"), name="catalogue_action_place"
            ),
        ),
        migrations.AddConstraint(
            model_name="action",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reference", ""), _negated=True), fields=("formation", "reference"), name="catalogue_action_reference_unique"
            ),
        ),
        migrations.RunSQL(ACTIONS_FROM_SESSIONS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="session",
            name="action",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sessions", to="catalogue.action"),
        ),
        migrations.RemoveField(
            model_name="formation",
            name="contact_email",
        ),
        migrations.RemoveField(
            model_name="formation",
            name="contact_name",
        ),
        migrations.RemoveField(
            model_name="formation",
            name="contact_phone",
        ),
        migrations.RemoveField(
            model_name="formation",
            name="prerequis",
        ),
        migrations.RemoveField(
            model_name="formation",
            name="tva",
        ),
        migrations.RunSQL(TRIGGERS, BACKWARD + _index_function_of_0013()),
    ]
