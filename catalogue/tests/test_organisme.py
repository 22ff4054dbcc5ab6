"""« Espace organisme »: staff manage their own catalogue, never another organisme's."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Action, Formation, Session
from catalogue.tests.factories import ActionFactory, CertificationFactory, FormationFactory, SessionFactory, commune
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


def formation_data(**overrides):
    data = {
        "intitule": "Anglais professionnel",
        "code": "ANG-PRO",
        "certification_type": "RS",
        "certification_code": "RS5367",
        "description": "Pour progresser.",
        "objectifs": "Parler anglais au travail.",
        "contenu": "Oral, écrit.",
        "resultats_attendus": "TOEIC",
        "domaine": "Langues",
    }
    data.update(overrides)
    return data


def action_data(**overrides):
    data = {
        "modalite": "presentiel",
        "address": "18 Rue des Feivres",
        "lieu": "Metz (57070)",
        "rythmes": ["soiree", "weekend"],
        "modalites_pedagogiques": "Groupe de 8.",
        "prerequis": "",
        "duree_heures": "30",
        "heures_hebdo": "6",
        "prix": "870,00",
        "contact_email": "inscriptions@of.example",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def session_data(**overrides):
    start = timezone.localdate() + datetime.timedelta(days=20)
    data = {
        "permanent_entry": "",
        "start_date": start.isoformat(),
        "end_date": (start + datetime.timedelta(days=5)).isoformat(),
        "places": "12",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def staff_client(client, organisme_user):
    CertificationFactory(type="RS", code="5367", libelle="TOEIC")
    commune("metz")
    client.force_login(organisme_user)
    return client


def test_create_formation_then_session(staff_client, organisme_user):
    response = staff_client.post(reverse("catalogue:organisme-formation-create"), formation_data())
    formation = Formation.objects.get()
    assert response.url == reverse("catalogue:organisme-formation", args=[formation.public_id])
    assert formation.organisme == organisme_user.organisme
    assert formation.numero == f"{organisme_user.organisme.siret}_ANG-PRO"
    assert formation.certification.code == "5367"
    response = staff_client.post(reverse("catalogue:organisme-action-create", args=[formation.public_id]), action_data())
    action = Action.objects.get()
    assert response.url == reverse("catalogue:organisme-action", args=[action.public_id])
    assert action.formation == formation and action.rythmes == ["soiree", "weekend"] and action.heures_hebdo == 6
    response = staff_client.post(reverse("catalogue:organisme-session-create", args=[action.public_id]), session_data())
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.action == action and session.formation == formation
    assert session.price_cents == 87000 and session.commune.name == "Metz" and session.latitude == pytest.approx(49.108118)
    page = text(staff_client.get(response.url))
    # The place keeps the postal code typed (« Metz (57070) »), not Metz's first one.
    assert "870,00" in page and "Metz (57070)" in page and "Le week-end" in page and session.postal_code == "57070"
    formation.refresh_from_db()  # its summaries of its actions, for the search
    assert formation.duree_heures == 30 and formation.modalites == ["presentiel"] and formation.rythmes == ["soiree", "weekend"]


def test_a_changed_action_moves_its_sessions_price_and_place(staff_client, organisme_user):
    session = SessionFactory(formation=FormationFactory(organisme=organisme_user.organisme), price_cents=50_000)
    commune("nancy")
    response = staff_client.post(reverse("catalogue:organisme-action", args=[session.action.public_id]), action_data(lieu="Nancy", prix="640"))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.price_cents == 64_000 and session.commune.name == "Nancy" and session.latitude == pytest.approx(48.690111)
    response = staff_client.post(
        reverse("catalogue:organisme-action", args=[session.action.public_id]), action_data(modalite="distance", lieu="", address="")
    )
    session.refresh_from_db()
    assert session.commune is None and session.address == "" and session.formation.search_index.remote


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"duree_heures": "0"}, "duree_heures", "au moins 1 heure"),
        ({"duree_heures": "-3"}, "duree_heures", "au moins 1 heure"),
        ({"heures_hebdo": "0"}, "heures_hebdo", "au moins 1 heure"),
        ({"prix": "-1"}, "prix", "ne peut pas être négatif"),
        ({"prix": "cher"}, "prix", "Saisissez un nombre"),
        ({"lieu": "Zzzzz"}, "lieu", "Commune introuvable"),
        ({"lieu": ""}, "lieu", "Indiquez la commune"),
        ({"rythmes": ["nuit"]}, "rythmes", "choix valide"),
        ({"tva": "1000"}, "tva", "choix valide"),
    ],
)
def test_action_validation(staff_client, organisme_user, overrides, field, message):
    formation = FormationFactory(organisme=organisme_user.organisme)
    response = staff_client.post(reverse("catalogue:organisme-action-create", args=[formation.public_id]), action_data(**overrides))
    assert response.status_code == 400
    assert any(message in str(e) for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"intitule": ""}, "intitule", "obligatoire"),
        ({"code": "a b"}, "code", "lettres, des chiffres"),
        ({"certification_code": "RS9999"}, "certification_code", "n'est pas connue"),
        ({"certification_type": ""}, "certification_type", "Indiquez le type"),
    ],
)
def test_formation_validation(staff_client, overrides, field, message):
    response = staff_client.post(reverse("catalogue:organisme-formation-create"), formation_data(**overrides))
    assert response.status_code == 400
    assert any(message in str(e) for e in response.context["form"].errors[field])
    assert not Formation.objects.exists()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"end_date": "2020-01-01"}, "end_date", "postérieure ou égale"),
        ({"start_date": "", "end_date": ""}, "start_date", "date de début"),
        ({"places": "0"}, "places", "supérieure ou égale à 1"),
        ({"registration_opens": "2030-01-10", "registration_closes": "2030-01-01"}, "registration_closes", "doit suivre leur ouverture"),
        ({"registration_closes": "2099-01-01"}, "registration_closes", "au plus tard le dernier jour"),
    ],
)
def test_session_validation(staff_client, organisme_user, overrides, field, message):
    action = ActionFactory(formation=FormationFactory(organisme=organisme_user.organisme))
    response = staff_client.post(reverse("catalogue:organisme-session-create", args=[action.public_id]), session_data(**overrides))
    assert response.status_code == 400
    assert any(message in str(e) for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Session.objects.exists()


def test_permanent_entry_session_without_dates(staff_client, organisme_user):
    action = ActionFactory(formation=FormationFactory(organisme=organisme_user.organisme))
    staff_client.post(
        reverse("catalogue:organisme-session-create", args=[action.public_id]),
        session_data(permanent_entry="on", start_date="", end_date=""),
    )
    session = Session.objects.get()
    assert session.permanent_entry and session.start_date is None


def test_remote_action_sessions_have_no_place(staff_client, organisme_user):
    formation = FormationFactory(organisme=organisme_user.organisme)
    data = action_data(modalite="distance", lieu="Metz", address="1 rue ignorée")
    assert staff_client.post(reverse("catalogue:organisme-action-create", args=[formation.public_id]), data).status_code == 302
    action = Action.objects.get()
    assert action.commune is None and action.address == ""
    assert staff_client.post(reverse("catalogue:organisme-session-create", args=[action.public_id]), session_data()).status_code == 302
    assert Session.objects.get().commune is None


def test_deactivate_and_republish(staff_client, organisme_user):
    formation = FormationFactory(organisme=organisme_user.organisme)
    session = SessionFactory(formation=formation)
    staff_client.post(reverse("catalogue:organisme-formation-toggle", args=[formation.public_id]), {"action": "desactiver"})
    formation.refresh_from_db()
    assert not formation.active
    assert staff_client.get(reverse("catalogue:detail", args=[formation.numero])).status_code == 404
    staff_client.post(reverse("catalogue:organisme-formation-toggle", args=[formation.public_id]), {"action": "publier"})
    formation.refresh_from_db()
    assert formation.active
    staff_client.post(reverse("catalogue:organisme-session-toggle", args=[session.public_id]), {"action": "fermer"})
    session.refresh_from_db()
    assert not session.active


def test_edit_keeps_the_organisme(staff_client, organisme_user):
    formation = FormationFactory(organisme=organisme_user.organisme, certification=None)
    response = staff_client.post(
        reverse("catalogue:organisme-formation", args=[formation.public_id]),
        formation_data(intitule="Nouvel intitulé", code="NOUVEAU", certification_type="", certification_code=""),
    )
    assert response.status_code == 302
    formation.refresh_from_db()
    assert formation.intitule == "Nouvel intitulé" and formation.organisme == organisme_user.organisme


def test_another_organisme_gets_404_everywhere(client, organisme_user, other_organisme_user):
    formation = FormationFactory(organisme=other_organisme_user.organisme)
    session = SessionFactory(formation=formation)
    client.force_login(organisme_user)
    for url in (
        reverse("catalogue:organisme-formation", args=[formation.public_id]),
        reverse("catalogue:organisme-action-create", args=[formation.public_id]),
        reverse("catalogue:organisme-action", args=[session.action.public_id]),
        reverse("catalogue:organisme-session-create", args=[session.action.public_id]),
        reverse("catalogue:organisme-session", args=[session.public_id]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    for url in (
        reverse("catalogue:organisme-formation-toggle", args=[formation.public_id]),
        reverse("catalogue:organisme-session-toggle", args=[session.public_id]),
    ):
        assert client.post(url, {"action": "desactiver"}).status_code == 404
    formation.refresh_from_db()
    session.refresh_from_db()
    assert formation.active and session.active
    assert formation.intitule not in text(client.get(reverse("catalogue:organisme-formations")))


def test_back_office_needs_organisme_staff(client, titulaire):
    assert client.get(reverse("catalogue:organisme-formations")).status_code == 302
    client.force_login(titulaire)
    assert client.get(reverse("catalogue:organisme-formations")).status_code == 403


def test_catalogue_list_runs_a_fixed_number_of_queries(staff_client, organisme_user, django_assert_max_num_queries):
    FormationFactory(organisme=organisme_user.organisme)
    with django_assert_max_num_queries(10) as few:
        staff_client.get(reverse("catalogue:organisme-formations"))
    for _ in range(15):
        SessionFactory(formation=FormationFactory(organisme=organisme_user.organisme))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert staff_client.get(reverse("catalogue:organisme-formations")).status_code == 200


def test_home_counts_requests_to_answer_and_published_formations(client, organisme, organisme_user, titulaire, other_organisme):
    from dossiers.tests import factories as f

    FormationFactory(organisme=organisme, active=False)
    FormationFactory(organisme=other_organisme)  # not theirs
    f.give_rights(titulaire, 100_000)
    f.sent(titulaire, f.session_for(organisme))  # a second, published formation of theirs
    client.force_login(organisme_user)
    page = text(client.get(reverse("dossiers:organisme-home")))
    assert "1 demande à traiter" in page and "1 formation publiée sur 2" in page
    f.sent(titulaire, f.session_for(organisme))
    page = text(client.get(reverse("dossiers:organisme-home")))
    assert "2 demandes à traiter" in page and "2 formations publiées sur 3" in page
    assert f'href="{reverse("dossiers:organisme-inbox")}"' in page


def test_action_vat_rate_is_chosen_by_the_organisme_and_exempt_by_default(staff_client, organisme_user):
    formation = FormationFactory(organisme=organisme_user.organisme)
    staff_client.post(reverse("catalogue:organisme-action-create", args=[formation.public_id]), action_data())
    assert Action.objects.get().tva == Formation.Tva.EXONEREE
    response = staff_client.post(reverse("catalogue:organisme-action-create", args=[formation.public_id]), action_data(tva="2000", prix="1200"))
    action = Action.objects.get(tva=Formation.Tva.NORMALE)
    assert action.price_ht_cents == 100_000
    assert "1 200,00 € TTC, soit 1 000,00 € HT" in text(staff_client.get(response.url)).replace("\u202f", " ").replace("\xa0", " ")


def test_the_catalogue_list_names_each_certification_as_people_read_it(client, organisme_user):
    vae = CertificationFactory(type="VAE", code="VAE", libelle="Accompagnement VAE")
    rs = CertificationFactory(type="RS", code="6225", libelle="Bright Language")
    for certification in (vae, rs):
        SessionFactory(formation=FormationFactory(organisme=organisme_user.organisme, certification=certification))
    client.force_login(organisme_user)
    page = html.unescape(text(client.get(reverse("catalogue:organisme-formations"))))
    assert f"<td>{vae.tag}</td>" in page and "<td>RS 6225</td>" in page
    assert "VAE VAE" not in page and vae.tag != "VAE"
