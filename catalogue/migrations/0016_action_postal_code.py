"""An action's own postal code (« 57070 » in Metz, whose first code is 57000), copied on its
sessions by the triggers of 0014 as its address is."""

from django.db import migrations, models

SESSION_FOLLOWS = """
CREATE OR REPLACE FUNCTION catalogue_session_action() RETURNS trigger AS $$
BEGIN
    SELECT formation_id, price_cents, commune_id, address, postal_code
      INTO NEW.formation_id, NEW.price_cents, NEW.commune_id, NEW.address, NEW.postal_code
      FROM catalogue_action WHERE id = NEW.action_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION catalogue_action_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE catalogue_session s
           SET formation_id = NEW.formation_id, price_cents = NEW.price_cents, commune_id = NEW.commune_id,
               address = NEW.address, postal_code = NEW.postal_code
         WHERE s.action_id = NEW.id
           AND (s.formation_id, s.price_cents, s.commune_id, s.address, s.postal_code)
               IS DISTINCT FROM (NEW.formation_id, NEW.price_cents, NEW.commune_id, NEW.address, NEW.postal_code);
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
"""

SESSION_FOLLOWS_0014 = """
CREATE OR REPLACE FUNCTION catalogue_session_action() RETURNS trigger AS $$
BEGIN
    SELECT formation_id, price_cents, commune_id, address INTO NEW.formation_id, NEW.price_cents, NEW.commune_id, NEW.address
      FROM catalogue_action WHERE id = NEW.action_id;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION catalogue_action_changed() RETURNS trigger AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0015_french_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="action",
            name="postal_code",
            field=models.CharField(blank=True, db_default="", max_length=5, verbose_name="code postal du lieu"),
        ),
        migrations.AddField(
            model_name="session",
            name="postal_code",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=5, verbose_name="code postal du lieu"),
        ),
        migrations.RunSQL(SESSION_FOLLOWS, SESSION_FOLLOWS_0014),
    ]
