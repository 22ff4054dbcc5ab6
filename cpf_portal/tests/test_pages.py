import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cpf_portal.testing import text
from cpf_portal.views import checker_versions

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


def test_help_pages_explain_the_cpf_the_dif_and_the_dossier_steps(client, db, settings):
    index = text(client.get(reverse("aide")))
    for name in ("aide-cpf", "aide-dif", "aide-dossier", "accounts:contact"):
        assert f'href="{reverse(name)}"' in index
    assert "Le reste à payer" in text(client.get(reverse("aide-cpf")))
    settings.CPF_DIF_DEADLINE = datetime.date(2021, 6, 30)
    dif = text(client.get(reverse("aide-dif")))
    assert "<strong>15 €</strong>" in dif and "<strong>120 heures</strong>" in dif and "<strong>30/06/2021</strong>" in dif


def test_dossier_steps_page_follows_the_deadline_settings(client, db, settings):
    settings.DOSSIER_ORGANISME_REPLY_WORKING_DAYS = 3
    page = text(client.get(reverse("aide-dossier")))
    assert "<title>Les étapes d'un dossier de formation – Mon Compte Formation</title>" in page
    assert "L'organisme a <strong>3 jours ouvrés</strong> pour répondre" in page
    assert "<strong>4 jours ouvrés</strong> pour l'accepter" in page


def test_accessibility_statement_says_how_it_is_checked(client, db):
    response = client.get(reverse("accessibilite"))
    page = text(response)
    assert "Accessibilité : partiellement conforme" in page
    versions = checker_versions()
    assert f"axe-core {versions['axe-core']}" in page and f"vnu {versions['vnu-jar']}" in page
    assert "clavier seul" in page and "320 pixels" in page
    footer = text(client.get("/"))
    assert f'href="{reverse("accessibilite")}"' in footer and "Accessibilité : partiellement conforme" in footer


def test_privacy_page_lists_what_is_stored_and_why(client, db, settings):
    settings.CPF_LOGIN_LOG_RETENTION_DAYS = 45
    page = text(client.get(reverse("donnees-personnelles")))
    for stored in ("Numéro de sécurité sociale", "attestations", "Paiements par carte", "<td>45 jours</td>"):
        assert stored in page
    assert f'href="{reverse("mes_donnees:my-data")}"' in page


def test_login_attempts_are_forgotten_after_the_retention(db, settings):
    from axes.models import AccessAttempt, AccessLog

    from accounts.tasks import purge_login_logs

    now = timezone.now()
    for days in (31, 29):
        when = now - datetime.timedelta(days=days)
        log = AccessLog.objects.create(username=f"u{days}", ip_address="203.0.113.1", user_agent="")
        attempt = AccessAttempt.objects.create(username=f"u{days}", ip_address="203.0.113.1", user_agent="", failures_since_start=1)
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=when)  # attempt_time is set on creation
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=when)
    assert purge_login_logs() == 2
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["u29"]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["u29"]


def test_pages_are_compressed_for_browsers_that_accept_it(client, db):
    import gzip

    plain = client.get("/aide/")
    packed = client.get("/aide/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed.status_code == 200 and packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content) / 2
    page = gzip.decompress(packed.content).decode()
    assert "<h1" in page and page.rstrip().endswith("</html>")
