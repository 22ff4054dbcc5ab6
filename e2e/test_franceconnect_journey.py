"""« S'identifier avec FranceConnect » in a real browser, against a real OpenID provider
(franceconnect/tests/provider.py): the person plays their part on the provider's page."""

import datetime

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import TitulaireFactory
from e2e.conftest import field, tick
from franceconnect.models import FranceConnectIdentity
from franceconnect.tests.provider import CLAIMS

pytestmark = pytest.mark.django_db(transaction=True)


def through_the_provider(page, sub: str):
    """On the provider's authorization page (oidc-provider-mock's), authorize as ``sub``."""
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state()


@pytest.fixture
def provider_page(page):
    # The provider's page loads its stylesheet from a CDN: never leave the machine.
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    return page


def test_titulaire_logs_in_with_franceconnect(live_server, provider_page, franceconnect, screenshot):
    page = provider_page
    user = TitulaireFactory(first_name="Angela", email="angela.dubois@franceconnect.example", birth_date=datetime.date(1990, 5, 17))
    franceconnect.set_user("sub-e2e", **CLAIMS)
    page.goto(live_server.url + "/connexion/")
    expect(page.get_by_role("link", name="Qu’est-ce que FranceConnect ?")).to_have_attribute("target", "_blank")
    screenshot("connexion-franceconnect")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    through_the_provider(page, "sub-e2e")

    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()
    expect(page.get_by_text("Bonjour Angela.")).to_be_visible()
    assert FranceConnectIdentity.objects.get(sub="sub-e2e").user == user

    page.get_by_role("button", name="Se déconnecter").first.click()
    # The provider's end-session page, then back home.
    expect(page.get_by_role("button", name="End session")).to_be_visible()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(live_server.url + "/?state=*")
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()


def test_first_login_associates_the_account_by_nir(live_server, provider_page, franceconnect):
    page = provider_page
    user = TitulaireFactory(first_name="Angèle", email="ancienne@exemple.fr", birth_date=datetime.date(1990, 5, 17))
    franceconnect.set_user("sub-e2e-nir", **CLAIMS)
    page.goto(live_server.url + "/inscription/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    through_the_provider(page, "sub-e2e-nir")

    expect(page.get_by_role("heading", name="Associer mon compte", level=1)).to_be_visible()
    field(page, "Numéro de sécurité sociale").fill(user.nir)
    tick(page, "J'ai lu et j'accepte les conditions générales d'utilisation")
    page.get_by_role("button", name="Associer mon compte").click()
    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()
    assert FranceConnectIdentity.objects.get(sub="sub-e2e-nir").user == user
