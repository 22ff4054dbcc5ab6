"""Deadline job benchmark: `expire_overdue` on 2 000 000 dossiers of which 50 000 are overdue,
against the per-row loop it replaced (one `dossier_transition` per dossier) on a sample.

    make bench-deadlines      # or: python -m cpf_portal.embedded -- python bench/deadlines.py

Its own database (`<name>_deadlines` on the same server) is dropped, migrated and filled
each run: the dossiers are generated in SQL (INSERT … SELECT over generate_series, nothing
crosses the wire), then the job runs. Prints a table, the per-row costs and their ratio, and
checks the result (rows moved = overdue = events written). Sizes: BENCH_DOSSIERS,
BENCH_OVERDUE, BENCH_SAMPLE.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import os
import sys
import time

DOSSIERS = int(os.environ.get("BENCH_DOSSIERS", 2_000_000))
OVERDUE = int(os.environ.get("BENCH_OVERDUE", 50_000))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", 300))
TITULAIRES = 10_000


from fresh import fresh_database  # noqa: E402  (bench/ is on sys.path when a script runs)

fresh_database("deadlines")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.tests.factories import OrganismeStaffFactory  # noqa: E402
from catalogue.tests.factories import ActionFactory, FormationFactory, OrganismeFactory, SessionFactory, commune  # noqa: E402
from dossiers import services  # noqa: E402
from dossiers.models import Dossier, DossierEvent  # noqa: E402
from dossiers.states import Actor, Status  # noqa: E402
from notifications.models import Email, Notification  # noqa: E402


def _sql_default(field) -> str:
    """An SQL value for a NOT NULL column the generator does not set."""
    default = field.default
    if default is not models.NOT_PROVIDED and not callable(default):
        if isinstance(field, models.JSONField):
            return f"'{default}'::jsonb"
        value = default.value if isinstance(default, enum.Enum) else default
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int | float) else "'" + str(value).replace("'", "''") + "'"
    if isinstance(field, models.UUIDField):
        return "gen_random_uuid()"
    if isinstance(field, models.JSONField):
        return "'{}'::jsonb"
    if isinstance(field, models.DateTimeField):
        return "now()"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, (models.IntegerField, models.BigIntegerField, models.PositiveIntegerField)):
        return "0"
    return "''"


def insert_select(model, count: int, given: dict[str, str]) -> None:
    """INSERT … SELECT … FROM generate_series(1, count) AS g, every NOT NULL column filled."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column in given:
            columns.append(field.column)
            values.append(given[field.column])
        elif not field.null:
            columns.append(field.column)
            values.append(_sql_default(field))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM generate_series(1, {count}) AS g"
    with connection.cursor() as cursor:
        cursor.execute(sql)


def generate() -> datetime.datetime:
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    OrganismeStaffFactory(organisme=organisme)
    formation = FormationFactory(organisme=organisme, intitule="Anglais - évaluation d'Anglais professionnel")
    sessions = DOSSIERS // TITULAIRES + 1
    metz = commune("metz")
    action = ActionFactory(formation=formation, commune=metz, price_cents=87_000, duree_heures=10)
    SessionFactory.create_batch(sessions, action=action)
    insert_select(
        User,
        TITULAIRES,
        {
            "email": "'titulaire' || g || '@bench.example'",
            # NIR-shaped and unique (the bench never checks the key): 1 95 10 99 + 8 digits.
            "nir": "'1951099' || lpad(g::text, 8, '0')",
            "role": f"'{Role.TITULAIRE}'",
            "first_name": "'Camille'",
            "last_name": "'Titulaire ' || g",
            "password": "'!'",
            "is_active": "true",
        },
    )
    first_user = User.objects.filter(role=Role.TITULAIRE).order_by("pk").values_list("pk", flat=True).first()
    first_session = formation.sessions.order_by("pk").values_list("pk", flat=True).first()
    now = timezone.now()
    overdue_at = (now - datetime.timedelta(hours=1)).isoformat()
    insert_select(
        Dossier,
        DOSSIERS,
        {
            "numero": "(1000000000 + g)::text",
            "titulaire_id": f"{first_user} + (g - 1) % {TITULAIRES}",
            "session_id": f"{first_session} + (g - 1) / {TITULAIRES}",
            "formation_id": str(formation.pk),
            "organisme_id": str(organisme.pk),
            "status": f"CASE WHEN g <= {OVERDUE} THEN 'sent' ELSE 'debited' END",
            "price_cents": "87000",
            "duree_heures": "10",
            "sent_at": f"'{overdue_at}'::timestamptz - interval '3 days'",
            "deadline_at": f"CASE WHEN g <= {OVERDUE} THEN '{overdue_at}'::timestamptz END",
            "deadline_transition": f"CASE WHEN g <= {OVERDUE} THEN 'expire' ELSE '' END",
            "closed_at": f"CASE WHEN g > {OVERDUE} THEN '{overdue_at}'::timestamptz END",
            "created_at": f"'{overdue_at}'::timestamptz - interval '4 days'",
        },
    )
    # A table in service is kept by autovacuum (statistics, visibility map, hint bits); a table
    # filled by one INSERT a second ago is not: the first job to read it would pay for that.
    # Nor would it find gigabytes of the generation's pages still to write to disk: the
    # checkpoint that writes them belongs to the generation, not to the job.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return now


def main() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    now = generate()
    print(f"{Dossier.objects.count():_} dossiers dont {OVERDUE:_} en retard (générés en {time.perf_counter() - started:.0f} s)".replace("_", " "))

    # The per-row loop the job replaced: one transition (lock, effect, history, notices) per dossier.
    sample = list(Dossier.objects.filter(status=Status.SENT).order_by("-id").values_list("id", flat=True)[:SAMPLE])
    t0 = time.perf_counter()
    for dossier_id in sample:
        services.dossier_transition(dossier_id=dossier_id, name="expire", actor=Actor.SYSTEM, now=now)
    loop = time.perf_counter() - t0

    events_before = DossierEvent.objects.filter(transition="expire").count()
    due = Dossier.objects.filter(status=Status.SENT, deadline_transition="expire", deadline_at__lte=now).count()
    t0 = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        moved = profile.runcall(services.expire_overdue, now=now)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    else:
        moved = services.expire_overdue(now=now)
    job = time.perf_counter() - t0
    events = DossierEvent.objects.filter(transition="expire").count() - events_before
    again = services.expire_overdue(now=now)

    per_row_loop = loop / len(sample) * 1000
    per_row_job = job / moved * 1000
    print()
    print("| mesure | valeur |")
    print("|---|---|")
    print(f"| dossiers / en retard traités par la tâche | {DOSSIERS:,} / {moved:,} |".replace(",", " "))
    batch = inspect.signature(services.expire_overdue).parameters["batch"].default
    print(f"| `expire_overdue` (ensembliste, lots de {batch}) | {job:.1f} s = {per_row_job:.3f} ms par dossier |")
    print(f"| boucle dossier par dossier (échantillon de {len(sample)}) | {loop:.1f} s = {per_row_loop:.2f} ms par dossier |")
    print(f"| rapport boucle / ensembliste | ×{per_row_loop / per_row_job:.0f} |")
    print(f"| courriels écrits / notifications | {Email.objects.count():,} / {Notification.objects.count():,} |".replace(",", " "))
    print()
    checks = {
        "lignes déplacées = dossiers en retard": moved == due,
        "événements écrits = lignes déplacées": events == moved,
        "plus aucun dossier en retard": not Dossier.objects.filter(status=Status.SENT, deadline_at__lte=now).exists(),
        "seconde exécution sans effet": again == 0,
    }
    for label, ok in checks.items():
        print(f"{'OK ' if ok else 'ÉCHEC'} {label}")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
