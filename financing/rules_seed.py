"""The legal rows of the rules in force (participation forfaitaire, caps, dated rules) that the
migrations write, written again into a database that lost them all: after ``flush`` (a test
that ran a live server, a base emptied before a restore) the split would otherwise compute
without participation nor caps. A table that holds any row is left as it is: the operators'
changes and deletions stand."""

from __future__ import annotations

import importlib

from django.apps import apps as global_apps

# (model, migration, its seeding function), in the migrations' order.
SEEDS = [
    ("ParticipationForfaitaire", "0002_participation_forfaitaire_rules", "add_rules"),
    ("FundingCap", "0006_funding_caps", "seed"),
    ("DatedRule", "0007_dated_rules", "seed"),
    ("DatedRule", "0008_permis_rule", "seed"),
]


def restore_rules(sender, using="default", apps=global_apps, **kwargs) -> None:
    """``post_migrate`` receiver of the financing app (Django emits it after ``flush`` too,
    then without the migrations' ``apps``: the project's models serve)."""
    empty = {name for name, _, _ in SEEDS if not apps.get_model("financing", name).objects.using(using).exists()}
    for name, migration, function in SEEDS:
        if name in empty:
            getattr(importlib.import_module(f"financing.migrations.{migration}"), function)(apps, None)
