"""Catalogue import benchmark: an organisme's CSV of 5 000 sessions (500 formations × 10
sessions, in 6 cities and at a distance), checked then imported, then the same file again.

    make bench-import      # or: python -m cpf_portal.embedded -- python bench/offer_import.py

Its own database (`<name>_import` on the same server) is dropped and migrated each run. Prints
a table (check, import, re-import; sessions per second) and checks the result: every session
written once, the re-import changing nothing. Size: BENCH_IMPORT_SESSIONS (target: 5 000 in
under a minute, check and import together).
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import time

SESSIONS = int(os.environ.get("BENCH_IMPORT_SESSIONS", 5_000))
CITIES = ["metz", "nancy", "thionville", "marseille", "saint-etienne", "montigny"]


from fresh import fresh_database  # noqa: E402  (bench/ is on sys.path when a script runs)

fresh_database("import")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.tests.factories import OrganismeStaffFactory  # noqa: E402
from catalogue import offer_import  # noqa: E402
from catalogue.models import Formation, Session  # noqa: E402
from catalogue.tests.factories import PLACES, OrganismeFactory, commune  # noqa: E402


def catalogue_csv(sessions: int) -> bytes:
    start = timezone.localdate() + datetime.timedelta(days=30)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(offer_import.COLUMNS)
    for index in range(sessions):
        formation, slot = index // 10, index % 3  # ten sessions per formation, in three actions
        remote = formation % 7 == 0
        values = {
            "formation_code": f"F{formation:05d}",
            "intitule": f"Formation importée n°{formation} : anglais, bureautique et gestion",
            "objectifs": "Acquérir les compétences du référentiel. " * 5,
            "contenu": "Module 1 ; module 2 ; module 3 ; évaluation finale. " * 5,
            "prerequis": "Niveau B1." if formation % 5 == 0 else "",
            "duree_heures": str(20 + formation % 100),
            "action_code": "DISTANCE" if remote else f"A{slot}",
            "modalite": "distance" if remote else "presentiel",
            "rythme": "temps_partiel" if remote else ["journee", "soiree", "weekend"][slot],
            "contact_nom": "Service des inscriptions",
            "contact_courriel": "inscriptions@of.example",
            "session_code": f"S{index:06d}",
            "date_debut": f"{start + datetime.timedelta(days=index % 300):%d/%m/%Y}",
            "date_fin": f"{start + datetime.timedelta(days=index % 300 + 20):%d/%m/%Y}",
            "adresse": "" if remote else f"{slot + 1} rue de la Formation",
            "code_commune": "" if remote else PLACES[CITIES[(formation + slot) % len(CITIES)]][0],
            "prix_ttc": f"{900 + formation % 40 * 25},00",
            "places": "12",
        }
        writer.writerow([values.get(column, "") for column in offer_import.COLUMNS])
    return out.getvalue().encode()


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    call_command("migrate", verbosity=0)
    for city in CITIES:
        commune(city)
    organisme = OrganismeFactory(raison_sociale="Réseau national de formation")
    staff = OrganismeStaffFactory(organisme=organisme)
    content = catalogue_csv(SESSIONS)
    print(f"Fichier CSV de {SESSIONS:_} sessions ({len(content) / 1_000_000:.1f} Mo)".replace("_", " "))

    def import_once():
        checked, check_seconds = timed(offer_import.check_upload, organisme=organisme, upload=SimpleUploadedFile("catalogue.csv", content), by=staff)
        assert checked.total == SESSIONS and not checked.rejected, checked.rejected[:5]
        offer_import.confirm(offer_import=checked)
        done, run_seconds = timed(offer_import.run, checked.pk)
        return done, check_seconds, run_seconds

    first, check1, run1 = import_once()
    again, check2, run2 = import_once()
    sessions = Session.objects.filter(formation__organisme=organisme).count()
    formations = Formation.objects.filter(organisme=organisme).count()
    assert (first.created, sessions, again.unchanged, again.created, again.updated) == (SESSIONS, SESSIONS, SESSIONS, 0, 0)

    print()
    print("| mesure | vérification | import | total | sessions / s |")
    print("|---|---|---|---|---|")
    print(
        f"| premier import ({SESSIONS:_} sessions, {formations:_} formations) | {check1:.1f} s | {run1:.1f} s | **{check1 + run1:.1f} s** | {SESSIONS / (check1 + run1):_.0f} |".replace(
            "_", " "
        )
    )
    print(
        f"| même fichier à nouveau (rien ne change) | {check2:.1f} s | {run2:.1f} s | {check2 + run2:.1f} s | {SESSIONS / (check2 + run2):_.0f} |".replace(
            "_", " "
        )
    )
    print()
    verdict = "atteint" if check1 + run1 < 60 else "NON atteint"
    print(f"Objectif « 5 000 sessions en moins d'une minute » : {verdict} ({check1 + run1:.1f} s).")


if __name__ == "__main__":
    main()
