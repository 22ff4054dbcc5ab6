import pytest
from django.urls import reverse

from accounts.models import Structure
from catalogue.tests.factories import commune
from cpf_portal.testing import text
from interlocuteurs.services import search_structures

pytestmark = pytest.mark.django_db
URL = reverse("interlocuteurs:directory")


@pytest.fixture
def directory():
    def make(kind, name, place):
        c = commune(place)
        return Structure.objects.create(
            type=kind,
            name=name,
            address="1 rue de l'Emploi",
            postal_code=c.postal_codes[0],
            city=c.name,
            commune=c,
            departement=c.departement,
            phone="0387000000",
            email="contact@structure.example",
        )

    return {
        "ft_metz": make(Structure.Type.FRANCE_TRAVAIL, "France Travail Metz", "metz"),
        "ml_montigny": make(Structure.Type.MISSION_LOCALE, "Mission locale de Montigny", "montigny"),
        "ft_nancy": make(Structure.Type.FRANCE_TRAVAIL, "France Travail Nancy", "nancy"),
        "apec_marseille": make(Structure.Type.APEC, "APEC Marseille", "marseille"),
    }


def test_search_by_commune_nearest_first(directory):
    found = list(search_structures(commune=commune("metz")))
    assert [s.name for s in found] == ["France Travail Metz", "Mission locale de Montigny", "France Travail Nancy"]
    assert found[0].distance_km == pytest.approx(0, abs=0.01) and found[2].distance_km == pytest.approx(46.5, abs=0.2)


def test_search_by_departement_and_type(directory):
    assert {s.name for s in search_structures(departement="57")} == {"France Travail Metz", "Mission locale de Montigny"}
    assert [s.name for s in search_structures(commune=commune("metz"), types=["mission_locale"])] == ["Mission locale de Montigny"]


def test_titulaire_chooses_and_removes_an_interlocuteur(client, titulaire, directory):
    client.force_login(titulaire)
    page = text(client.get(URL, {"commune": "Metz"}))
    assert "France Travail Metz" in page and "Choisir cet interlocuteur" in page and "APEC Marseille" not in page
    response = client.post(URL, {"structure": str(directory["ft_metz"].public_id)}, follow=True)
    assert "France Travail Metz est désormais votre interlocuteur." in text(response)
    titulaire.refresh_from_db()
    assert titulaire.interlocuteur == directory["ft_metz"]
    home = text(client.get(reverse("accounts:home")))
    assert "Mon interlocuteur privilégié : " in home and ">France Travail Metz</a> · 03 87 00 00 00" in home
    client.post(URL, {"action": "retirer"})
    titulaire.refresh_from_db()
    assert titulaire.interlocuteur is None


@pytest.mark.parametrize(
    "params, message", [({"commune": "Zzzzz"}, "Nous ne trouvons pas cette commune"), ({"departement": "99"}, "numéro de département")]
)
def test_bad_search_input(client, titulaire, directory, params, message):
    client.force_login(titulaire)
    response = client.get(URL, params)
    assert response.status_code == 400 and message in text(response)


def test_search_runs_a_fixed_number_of_queries(client, titulaire, directory, django_assert_max_num_queries):
    client.force_login(titulaire)
    with django_assert_max_num_queries(10) as few:
        client.get(URL, {"departement": "57"})
    for index in range(10):
        Structure.objects.create(
            type="cep", name=f"CEP {index}", address="x", postal_code="57000", city="Metz", commune=commune("metz"), departement="57"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "CEP 9" in text(client.get(URL, {"departement": "57"}))


def test_seed_structures_is_idempotent(db):
    from interlocuteurs.services import seed_structures

    commune("metz")
    commune("montigny")
    first = seed_structures()
    assert first == 6  # five kinds in Metz, France Travail in Montigny
    assert seed_structures() == 0
