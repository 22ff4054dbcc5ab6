"""An organisme imports its catalogue in a real browser, with a real Celery worker: it
uploads a CSV of 1 200 sessions (two of them wrong), reads the report, confirms the valid
part and watches the progress bar reach 100 %; its sessions are then in « Mon catalogue »."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import OrganismeStaffFactory
from catalogue import offer_import
from catalogue.models import Session
from catalogue.tests.factories import OrganismeFactory, commune
from e2e.conftest import field, login


def catalogue_csv(path, sessions: int) -> None:
    start = timezone.localdate() + datetime.timedelta(days=30)
    lines = [";".join(offer_import.COLUMNS)]
    for index in range(sessions):
        values = {
            "formation_code": f"F{index // 12:04d}",
            "intitule": f"Formation importée n°{index // 12}",
            "duree_heures": "35",
            "modalite": "presentiel",
            "session_code": f"S{index:05d}",
            "date_debut": f"{start + datetime.timedelta(days=index % 12):%d/%m/%Y}",
            "date_fin": f"{start + datetime.timedelta(days=index % 12 + 5):%d/%m/%Y}",
            "adresse": "18 rue des Feivres",
            "code_commune": "57463",
            "prix_ttc": "990" if index not in (7, 500) else "gratuit",
        }
        lines.append(";".join(values.get(column, "") for column in offer_import.COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.django_db(transaction=True)
def test_an_organisme_imports_a_csv_and_watches_the_progress_bar_reach_100(live_server, page, tmp_path, real_worker, screenshot):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    staff = OrganismeStaffFactory(organisme=organisme, email="catalogue@cp-formation.example")
    commune("metz")
    upload = tmp_path / "catalogue.csv"
    catalogue_csv(upload, 1200)

    login(page, live_server, staff.email)
    page.get_by_role("link", name="Mon catalogue").first.click()
    page.get_by_role("link", name="Importer un catalogue").click()
    field(page, "Fichier du catalogue").set_input_files(str(upload))
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_text("Rien n'est encore enregistré")).to_be_visible()
    expect(page.get_by_role("cell", name="ligne 9", exact=True)).to_be_visible()
    assert Session.objects.filter(formation__organisme=organisme).count() == 0
    screenshot("import-rapport")

    page.get_by_role("button", name="Importer les 1198 sessions valides").click()
    expect(page.get_by_text("L'import de 1198 sessions a commencé")).to_be_visible()
    expect(page.get_by_text("Import terminé : 1198 sessions traitées sur 1198 (100 %).")).to_be_visible(timeout=60_000)
    assert page.locator("#import-progress").get_attribute("value") == "100"
    expect(page.get_by_text(re.compile(r"^1198 sessions créées, 0 modifiée, 0 inchangée, en \d+ s\.$"))).to_be_visible()
    screenshot("import-termine")
    assert Session.objects.filter(formation__organisme=organisme).count() == 1198, real_worker.read_text()
