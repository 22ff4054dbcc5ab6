"""The participation forfaitaire obligatoire in force since 2 May 2024 (docs/regles.md §7).
Later amounts are added by operators in the admin (« Participations forfaitaires »)."""

import datetime

from django.db import migrations

RULES = [
    (datetime.date(2024, 5, 2), 10000, "Décret n° 2024-394 du 29 avril 2024"),
    (datetime.date(2025, 1, 1), 10223, "Arrêté du 26 décembre 2024"),
    (datetime.date(2026, 1, 1), 10320, "Arrêté du 30 décembre 2025"),
]


def add_rules(apps, schema_editor):
    Rule = apps.get_model("financing", "ParticipationForfaitaire")
    for start_date, amount_cents, source in RULES:
        Rule.objects.get_or_create(start_date=start_date, defaults={"amount_cents": amount_cents, "source": source})


def remove_rules(apps, schema_editor):
    Rule = apps.get_model("financing", "ParticipationForfaitaire")
    Rule.objects.filter(start_date__in=[rule[0] for rule in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("financing", "0001_initial")]

    operations = [migrations.RunPython(add_rules, remove_rules)]
