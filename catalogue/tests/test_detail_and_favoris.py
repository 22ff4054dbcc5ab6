import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Favori
from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def formation():
    formation = FormationFactory(
        intitule="Anglais - Test Bright Language - évaluation d'Anglais professionnel",
        objectifs="Mesurer son niveau d'anglais.",
        contenu="Test de positionnement et entraînement.",
        resultats_attendus="Certification Bright Language.",
    )
    SessionFactory(
        formation=formation,
        address="18 Rue des Feivres",
        commune=commune("metz"),
        price_cents=87000,
        duree_heures=10,
        prerequis="Niveau A2.",
        rythmes=["soiree"],
        modalites_pedagogiques="Groupe de 6.",
    )
    return formation


def detail_url(formation):
    return reverse("catalogue:detail", args=[formation.numero])


def test_detail_page_shows_what_a_person_needs(client, formation):
    later = SessionFactory(action=formation.actions.get(), start_date=timezone.localdate() + datetime.timedelta(days=60))
    response = client.get(detail_url(formation))
    html = text(response)
    assert response.status_code == 200
    for wording in (
        formation.intitule,
        f"par {formation.organisme.raison_sociale}",
        "10 h de formation",
        "Objectifs",
        "Contenus",
        "Résultats attendus",
        "Prérequis : Niveau A2.",
        "Rythme : En soirée",
        "Modalités pédagogiques : Groupe de 6.",
        "Certification",
        "Lieu de la formation",
        "18 Rue des Feivres",
        "Prix de la formation",
        "870,00",
        "Contacter l'organisme",
        formation.organisme.email,
        "Ajouter aux favoris",
    ):
        assert wording in html, wording
    assert html.count("S'inscrire à cette session") == 2
    assert later.dates_label in html


def test_unpublished_or_unknown_formation_is_404(client, formation):
    formation.active = False
    formation.save()
    assert client.get(detail_url(formation)).status_code == 404
    assert client.get(reverse("catalogue:detail", args=["inconnue"])).status_code == 404


def test_detail_runs_a_fixed_number_of_queries(client, titulaire, formation, django_assert_max_num_queries):
    client.force_login(titulaire)
    with django_assert_max_num_queries(12) as few:
        client.get(detail_url(formation))
    for _ in range(10):
        SessionFactory(formation=formation, commune=commune("montigny"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(detail_url(formation))
    assert text(response).count("S'inscrire à cette session") == 11


def test_add_and_remove_favourite(client, titulaire, formation):
    client.force_login(titulaire)
    url = reverse("catalogue:favori", args=[formation.numero])
    response = client.post(url, {"action": "ajouter"}, follow=True)
    assert "Formation ajoutée à vos favoris." in text(response)
    assert "Retirer des favoris" in text(response)
    client.post(url, {"action": "ajouter"})  # a double click adds nothing more
    assert Favori.objects.filter(user=titulaire).count() == 1
    favoris = text(client.get(reverse("catalogue:favoris")))
    assert "Mes favoris" in favoris and formation.intitule in favoris
    response = client.post(url, {"action": "retirer", "next": reverse("catalogue:favoris")}, follow=True)
    assert "Formation retirée de vos favoris." in text(response)
    assert not Favori.objects.exists()


def test_favourites_are_personal(client, titulaire, other_titulaire, formation):
    Favori.objects.create(user=other_titulaire, formation=formation)
    client.force_login(titulaire)
    assert formation.intitule not in text(client.get(reverse("catalogue:favoris")))


def test_favourites_need_a_titulaire(client, organisme_user, formation):
    url = reverse("catalogue:favori", args=[formation.numero])
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("accounts:login"))
    client.force_login(organisme_user)
    assert client.post(url).status_code == 403
    assert client.get(reverse("catalogue:favoris")).status_code == 403


def test_favourite_redirect_stays_on_the_site(client, titulaire, formation):
    client.force_login(titulaire)
    response = client.post(reverse("catalogue:favori", args=[formation.numero]), {"next": "https://evil.example/"})
    assert response.url == detail_url(formation)


def test_favourites_list_runs_a_fixed_number_of_queries(client, titulaire, django_assert_max_num_queries):
    client.force_login(titulaire)
    Favori.objects.create(user=titulaire, formation=FormationFactory())
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("catalogue:favoris"))
    for _ in range(10):
        Favori.objects.create(user=titulaire, formation=FormationFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("catalogue:favoris")).status_code == 200


def sidebar_price(client, formation) -> str:
    html = client.get(detail_url(formation)).content.decode()
    shown = re.search(r"Prix de la formation</h2>\s*<p>(.*?)</p>", html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", shown).strip()


def test_the_price_is_the_formations_from_its_open_sessions(client, formation):
    assert sidebar_price(client, formation) == "870,00\u00a0€"
    # Another action, dearer, listed first: the page gives the lowest price, « à partir de ».
    SessionFactory(formation=formation, price_cents=120_000, duree_heures=10, start_date=timezone.localdate() + datetime.timedelta(days=2))
    assert sidebar_price(client, formation) == "à partir de 870,00\u00a0€"


def test_the_duration_reads_the_same_on_the_formation_favourites_and_the_organismes_catalogue(client, titulaire, organisme_user):
    """A formation has no duration of its own: each action has its own; the formation as a
    whole reads « à partir de » the shortest wherever it is listed."""
    formation = FormationFactory(organisme=organisme_user.organisme, intitule="Excel - préparation à la certification Tosa")
    SessionFactory(formation=formation, duree_heures=35, price_cents=120_000, commune=commune("metz"), address="1 rue Haute")
    SessionFactory(formation=formation, duree_heures=30, price_cents=89_000, commune=None, address="")
    client.force_login(titulaire)
    client.post(reverse("catalogue:favori", args=[formation.numero]), {"action": "ajouter"})
    assert "à partir de 30 h de formation" in text(client.get(detail_url(formation)))
    assert "à partir de 30 h" in text(client.get(reverse("catalogue:favoris")))
    client.force_login(organisme_user)
    assert "à partir de 30 h" in text(client.get(reverse("catalogue:organisme-formations")))


@pytest.mark.parametrize("who", ["anonymous", "titulaire", "organisme_user", "conseiller"])
def test_only_titulaires_and_visitors_are_offered_to_register(client, formation, who, request):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    page = client.get(detail_url(formation)).content.decode()
    session = formation.sessions.get()
    offered = "S'inscrire à cette session" in page
    assert offered == (who in ("anonymous", "titulaire"))
    if who == "anonymous":
        login = reverse("accounts:login") + "?next=" + reverse("dossiers:register", args=[session.public_id])
        assert f'href="{login}"' in page
    elif who == "titulaire":
        assert f'href="{reverse("dossiers:register", args=[session.public_id])}"' in page
