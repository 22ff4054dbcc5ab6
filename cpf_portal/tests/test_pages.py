import pytest
from django.urls import reverse

from cpf_portal.testing import text

pytestmark = pytest.mark.django_db


def test_home_page_is_french_dsfr_with_skip_links(client, db):
    response = client.get("/")
    html = text(response)
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "<title>Accueil – Mon Compte Formation</title>" in html
    assert 'class="fr-skiplinks"' in html and 'href="#contenu"' in html
    assert "Mon Compte Formation" in html and "fr-header" in html and "fr-footer" in html
    assert "/static/dsfr/dist/dsfr/dsfr.min.css" in html  # from the django-dsfr package, no CDN
    assert "https://cdn" not in html
    assert "Je crée mon compte" in html


def test_cgu_page(client, db):
    response = client.get(reverse("cgu"))
    assert response.status_code == 200
    assert "Conditions générales d'utilisation" in text(response)


def test_unknown_page_is_a_french_404(client, db):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page non trouvée" in text(response)


def test_messages_are_dsfr_alerts(client, titulaire):
    client.force_login(titulaire)
    response = client.post(reverse("accounts:logout"), follow=True)
    assert 'class="fr-alert fr-alert--success' in text(response)


def test_csp_header_forbids_outside_sources(client, db):
    header = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in header
    assert "script-src 'self'" in header


def test_server_error_page_renders_without_database(rf):
    from cpf_portal.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Erreur inattendue" in text(response)
