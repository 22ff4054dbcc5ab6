"""Bulk import of an organisme's offer (CSV and LHÉO): the full check before anything is
written, the report, the confirmed import, idempotence, and hostile files."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import OrganismeStaffFactory
from catalogue import offer_import
from catalogue.models import Formation, OfferImport, Session
from catalogue.tests.factories import CertificationFactory, commune
from equipes.models import TeamRole

HEADER = ";".join(offer_import.COLUMNS)


def future_day(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def future(days: int) -> str:
    return future_day(days).strftime("%d/%m/%Y")


def line(**values) -> str:
    row = {
        "formation_code": "ANG-B2",
        "intitule": "Anglais professionnel B2",
        "certification_type": "RS",
        "certification_code": "5367",
        "objectifs": "Communiquer en anglais au travail.",
        "action_code": "METZ",
        "duree_heures": "40",
        "modalite": "presentiel",
        "rythme": "en soirée, le week-end",
        "session_code": "S1",
        "date_debut": future(30),
        "date_fin": future(60),
        "adresse": "18 rue des Feivres",
        "code_commune": "57463",
        "prix_ttc": "1200",
        "places": "10",
    }
    row.update(values)
    return ";".join(row.get(column, "") for column in offer_import.COLUMNS)


def csv_file(*lines: str, name="catalogue.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([HEADER, *lines]) + "\n").encode(encoding), content_type="text/csv")


VALID = [
    line(),
    line(session_code="S2", action_code="", date_debut=future(90), date_fin=future(120), prix_ttc="1 150,50", inscription_fin=future(80)),
    line(
        formation_code="EXCEL-1",
        intitule="Excel, les bases",
        certification_type="",
        certification_code="",
        duree_heures="14",
        modalite="distance",
        session_code="E1",
        date_debut="",
        date_fin="",
        entree_permanente="oui",
        code_commune="",
        adresse="",
        prix_ttc="450",
    ),
]


@pytest.fixture
def places(db):
    commune("metz")
    CertificationFactory(type="RS", code="5367", libelle="Test Bright")


def check(organisme, user, upload) -> OfferImport:
    return offer_import.check_upload(organisme=organisme, upload=upload, by=user)


def test_a_valid_file_is_checked_without_writing_then_imported_once(organisme, organisme_user, places):
    checked = check(organisme, organisme_user, csv_file(*VALID))
    assert (checked.total, checked.rejected, checked.format) == (3, [], "csv")
    assert not Formation.objects.filter(organisme=organisme).exists()  # nothing before the confirmation

    offer_import.confirm(offer_import=checked)
    done = offer_import.run(checked.pk)
    assert (done.status, done.done, done.created, done.updated, done.unchanged, done.percent) == ("done", 3, 3, 0, 0, 100)
    english = Formation.objects.get(numero=f"{organisme.siret}_ANG-B2")
    assert english.certification.code == "5367" and english.duree_heures == 40 and english.organisme == organisme
    # Two actions: the one coded METZ, and one identified by its description (no code).
    metz, other = english.actions.order_by("reference")
    assert metz.reference == "METZ" and metz.rythmes == ["soiree", "weekend"] and other.reference.startswith("auto-")
    assert english.rythmes == ["soiree", "weekend"]
    sessions = {s.reference: s for s in Session.objects.filter(formation__organisme=organisme)}
    assert sessions["S2"].price_cents == 115_050 and sessions["S1"].commune.code_insee == "57463" and sessions["S1"].places == 10
    assert sessions["S1"].action == metz and sessions["S2"].action == other and sessions["S2"].registration_closes == future_day(80)
    assert sessions["E1"].permanent_entry and sessions["E1"].commune is None and sessions["E1"].formation.modalite == "distance"

    # The same file again: nothing changes.
    stamp = Formation.objects.get(numero=f"{organisme.siret}_ANG-B2").updated_at
    again = check(organisme, organisme_user, csv_file(*VALID))
    offer_import.confirm(offer_import=again)
    again = offer_import.run(again.pk)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Session.objects.filter(formation__organisme=organisme).count() == 3
    assert Formation.objects.get(numero=f"{organisme.siret}_ANG-B2").updated_at == stamp

    # A changed price of a coded action updates that action and its session only.
    changed = check(organisme, organisme_user, csv_file(VALID[0].replace(";1200;", ";1190;"), VALID[1], VALID[2]))
    offer_import.confirm(offer_import=changed)
    changed = offer_import.run(changed.pk)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert Session.objects.get(reference="S1").price_cents == 119_000 and metz.sessions.get().price_cents == 119_000


def test_every_rejected_row_is_reported_with_its_line_field_and_reason(organisme, organisme_user, places):
    lines = [
        line(),  # 2: valid
        line(session_code="S2", date_debut="31/02/2027"),  # 3
        line(session_code="S3", code_commune="99999"),  # 4
        line(session_code="S4", prix_ttc=""),  # 5
        line(session_code="S5", duree_heures="12"),  # 6: its action said 40 on line 2
        line(session_code="S1", rythme="la nuit"),  # 7: S1 twice, an unknown rythm
        line(formation_code="X", session_code="X1", certification_code="9999999"),  # 8
        line(formation_code="Y Z", session_code="Y1", modalite="visio", tva="19,6", places="0"),  # 9
        line(formation_code="OLD", session_code="O1", date_debut="01/01/2020", date_fin="31/01/2020"),  # 10
        line(formation_code="M", session_code="M1", contact_courriel="pas-une-adresse", date_debut=future(10), date_fin=future(5)),  # 11
    ]
    checked = check(organisme, organisme_user, csv_file(*lines))
    problems = {(where, column) for where, column, _ in checked.rejected}
    assert checked.total == 1
    assert {
        ("ligne 3", "date_debut"),
        ("ligne 4", "code_commune"),
        ("ligne 5", "prix_ttc"),
        ("ligne 6", "duree_heures"),
        ("ligne 7", "session_code"),
        ("ligne 7", "rythme"),
        ("ligne 8", "certification_code"),
        ("ligne 9", "formation_code"),
        ("ligne 9", "modalite"),
        ("ligne 9", "tva"),
        ("ligne 9", "places"),
        ("ligne 10", "date_fin"),
        ("ligne 11", "contact_courriel"),
        ("ligne 11", "date_fin"),
    } <= problems
    messages = {(where, column): problem for where, column, problem in checked.rejected}
    assert messages[("ligne 4", "code_commune")] == "Le code INSEE « 99999 » n'est pas celui d'une commune."
    assert "décrite autrement en ligne 2" in messages[("ligne 6", "duree_heures")]
    assert "figure déjà en ligne 2" in messages[("ligne 7", "session_code")]
    assert not Formation.objects.filter(organisme=organisme).exists()


LHEO = """<?xml version="1.0" encoding="UTF-8"?>
<lheo xmlns="http://www.lheo.org/2.2"><offres>
<formation numero="CACES-R489">
  <intitule-formation>CACES R489 chariots élévateurs</intitule-formation>
  <objectif-formation>Conduire en sécurité.</objectif-formation>
  <resultats-attendus>CACES R489</resultats-attendus>
  <contenu-formation>Théorie et pratique.</contenu-formation>
  <certification><code-RS>5367</code-RS></certification>
  <contact-formation><coordonnees><nom>Martin</nom><prenom>Alix</prenom><courriel>caces@of.example</courriel></coordonnees></contact-formation>
  <action numero="A1">
    <modalites-enseignement>0</modalites-enseignement>
    <rythme-formation>En journée, du lundi au mercredi</rythme-formation>
    <conditions-specifiques>Aptitude médicale.</conditions-specifiques>
    <modalites-pedagogiques>Plateau technique, 4 stagiaires par chariot.</modalites-pedagogiques>
    <lieu-de-formation><coordonnees><adresse><ligne>2 rue du Port</ligne><codepostal>57000</codepostal><ville>Metz</ville><code-INSEE-commune>57463</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>
    <modalites-entrees-sorties>0</modalites-entrees-sorties>
    <session numero="S-2027-01"><periode><debut>{start}</debut><fin>{end}</fin></periode></session>
    <session numero="S-2027-02"><periode><debut>{start}</debut><fin>{end}</fin></periode></session>
    <prix-total-TTC>890.00</prix-total-TTC>
    <nombre-heures-total>21</nombre-heures-total>
  </action>
</formation>
</offres></lheo>"""


def lheo_file() -> SimpleUploadedFile:
    start, end = timezone.localdate() + datetime.timedelta(days=20), timezone.localdate() + datetime.timedelta(days=23)
    content = LHEO.format(start=f"{start:%Y%m%d}", end=f"{end:%Y%m%d}")
    return SimpleUploadedFile("offre.xml", content.encode(), content_type="application/xml")


def test_an_lheo_file_is_imported(organisme, organisme_user, places):
    checked = check(organisme, organisme_user, lheo_file())
    assert (checked.format, checked.total, checked.rejected) == ("lheo", 2, [])
    offer_import.confirm(offer_import=checked)
    offer_import.run(checked.pk)
    formation = Formation.objects.get(numero=f"{organisme.siret}_CACES-R489")
    action = formation.actions.get()
    assert action.reference == "A1" and action.prerequis == "Aptitude médicale." and action.duree_heures == 21
    assert action.contact_email == "caces@of.example" and action.contact_name == "Alix Martin" and formation.certification.code == "5367"
    assert action.rythmes == ["journee"] and action.modalites_pedagogiques == "Plateau technique, 4 stagiaires par chariot."
    assert sorted(formation.sessions.values_list("reference", "price_cents", "address")) == [
        ("S-2027-01", 89_000, "2 rue du Port"),
        ("S-2027-02", 89_000, "2 rue du Port"),
    ]


def zip_of(name: str, content: bytes) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return SimpleUploadedFile("catalogue.zip", buffer.getvalue(), content_type="application/zip")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<lheo><offres><formation numero="X"><intitule-formation>&secret;</intitule-formation></formation></offres></lheo>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lheo>&lol3;</lheo>"""


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: SimpleUploadedFile("offre.xml", b"<lheo><offres><formation>", content_type="application/xml"), "n'est pas bien formé"),
        (lambda: SimpleUploadedFile("offre.xml", b"PK\x03\x04 pas un zip", content_type="application/xml"), "ne commence pas par une balise"),
        (lambda: csv_file(line(intitule="Écrire en français"), encoding="latin-1"), "n'est pas encodé en UTF-8"),
        (lambda: zip_of("bombe.csv", b"0" * 30_000_000), "une fois décompressé"),
        (lambda: SimpleUploadedFile("gros.csv", b"a" * 50_000_000, content_type="text/csv"), "dépasse 20 Mo"),
        (lambda: SimpleUploadedFile("offre.xml", XXE, content_type="application/xml"), "DTD"),
        (lambda: SimpleUploadedFile("offre.xml", LAUGHS, content_type="application/xml"), "DTD"),
        (lambda: SimpleUploadedFile("offre.xml", b'<?xml version="1.0"?><catalogue/>', content_type="application/xml"), "racine"),
        (lambda: SimpleUploadedFile("vide.csv", b"nom;prenom\nA;B\n", content_type="text/csv"), "Colonnes manquantes"),
        (lambda: SimpleUploadedFile("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", content_type="text/csv"), "n'est pas"),
    ],
    ids=["xml-incomplet", "pas-xml", "latin-1", "bombe-zip", "50-mo", "xxe", "billion-laughs", "pas-lheo", "pas-nos-colonnes", "binaire"],
)
def test_hostile_or_unreadable_files_are_refused_with_a_clear_message_on_the_page(client, organisme, organisme_user, places, upload, message):
    client.force_login(organisme_user)
    response = client.post(reverse("catalogue:organisme-import-start"), {"file": upload()})
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not OfferImport.objects.exists() and not Formation.objects.filter(organisme=organisme).exists()


def test_a_zipped_csv_is_read(organisme, organisme_user, places):
    checked = check(organisme, organisme_user, zip_of("catalogue.csv", ("\n".join([HEADER, *VALID]) + "\n").encode()))
    assert checked.total == 3


def test_the_pages_from_upload_to_the_final_report(client, organisme, organisme_user, places):
    client.force_login(organisme_user)
    response = client.post(reverse("catalogue:organisme-import-start"), {"file": csv_file(VALID[0], line(session_code="S9", prix_ttc="cher"))})
    checked = OfferImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("catalogue:organisme-import", args=[checked.public_id])
    page = client.get(response.url).content.decode()
    assert "Rien n&#x27;est encore enregistré" in page or "Rien n'est encore enregistré" in page
    assert "Importer les 1 session valide" in page and "ligne 3" in page and "Le prix TTC est un montant en euros" in page
    report = b"".join(client.get(reverse("catalogue:organisme-import-report", args=[checked.public_id])).streaming_content).decode("utf-8-sig")
    assert "ligne 3;prix_ttc;" in report

    assert client.post(reverse("catalogue:organisme-import-confirm", args=[checked.public_id])).status_code == 302
    state = client.get(reverse("catalogue:organisme-import-status", args=[checked.public_id])).json()
    assert state == {"status": "queued", "label": "En file d'attente", "percent": 0, "done": 0, "total": 1, "seconds_left": None}
    assert client.post(reverse("catalogue:organisme-import-confirm", args=[checked.public_id])).status_code == 409  # once
    offer_import.run(checked.pk)  # what the worker does
    state = client.get(reverse("catalogue:organisme-import-status", args=[checked.public_id])).json()
    assert (state["status"], state["percent"], state["done"]) == ("done", 100, 1)
    page = client.get(reverse("catalogue:organisme-import", args=[checked.public_id])).content.decode()
    assert "1 session créée" in page and 'value="100"' in page


def test_only_catalogue_roles_import_and_imports_stay_in_their_organisme(client, organisme, organisme_user, other_organisme_user, places):
    checked = check(organisme, organisme_user, csv_file(*VALID))
    lecteur = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.LECTEUR])
    client.force_login(lecteur)
    assert client.get(reverse("catalogue:organisme-import-start")).status_code == 403
    assert client.post(reverse("catalogue:organisme-import-confirm", args=[checked.public_id])).status_code == 403
    assert client.get(reverse("catalogue:organisme-import", args=[checked.public_id])).status_code == 200  # reads it
    client.force_login(other_organisme_user)
    assert client.get(reverse("catalogue:organisme-import", args=[checked.public_id])).status_code == 404
    assert client.post(reverse("catalogue:organisme-import-confirm", args=[checked.public_id])).status_code == 404


def test_an_abandoned_import_writes_nothing(client, organisme, organisme_user, places):
    checked = check(organisme, organisme_user, csv_file(*VALID))
    client.force_login(organisme_user)
    assert client.post(reverse("catalogue:organisme-import-abandon", args=[checked.public_id])).status_code == 302
    checked.refresh_from_db()
    assert checked.status == "abandoned" and checked.rows == []
    assert client.post(reverse("catalogue:organisme-import-confirm", args=[checked.public_id])).status_code == 409
    assert not Formation.objects.filter(organisme=organisme).exists()


def test_a_stuck_import_is_queued_again_and_resumes(organisme, organisme_user, places):
    checked = check(organisme, organisme_user, csv_file(*VALID))
    OfferImport.objects.filter(pk=checked.pk).update(status="queued", created_at=timezone.now() - datetime.timedelta(minutes=30))
    assert offer_import.requeue_stuck() == 1
    assert offer_import.run(checked.pk).status == "done"
    assert offer_import.requeue_stuck() == 0
