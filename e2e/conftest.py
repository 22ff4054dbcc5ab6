"""Browser tests: Playwright (sync API) driving Debian's Chromium against a live server.

Never `playwright install`: /usr/bin/chromium is used when present (`.ci/run` installs it);
elsewhere Playwright's own browser is used if the machine has one.
"""

import base64
import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.tests.factories import totp_code
from franceconnect.tests.provider import franceconnect, oidc_provider  # noqa: F401 — fixtures: a real OpenID provider

# Playwright's sync API runs an event loop in the main thread; the ORM calls the tests make
# there (fixtures, assertions) are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)
            # A live server's test empties the database when it ends (migrations' rows included):
            # pytest-django runs it after the others only when it says so.
            marker = item.get_closest_marker("django_db")
            if "live_server" in item.fixturenames and not (marker and marker.kwargs.get("transaction")):
                raise pytest.UsageError(f"{item.nodeid} : un test avec live_server doit porter @pytest.mark.django_db(transaction=True)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]}
    if CHROMIUM.exists():
        args["executable_path"] = str(CHROMIUM)
    return args


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


def field(page, label: str):
    """The form field whose label starts with ``label`` (DSFR puts the hint inside the label,
    so the accessible name is « Mot de passe Votre mot de passe doit contenir… »)."""
    return page.get_by_label(re.compile(r"^\s*" + re.escape(label) + r"(\s|$)"))


def login(page, live_server, identifier: str, password: str = "Formation2020"):
    # Coming back to log in starts from a browser without a session (the session cookie ends
    # with the browser; under time_machine, weeks later, Redis would still hold the session of
    # the cached_db engine since its expiry runs on the server's real clock).
    page.context.clear_cookies()
    page.goto(live_server.url + "/connexion/")
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill(identifier)
    field(page, "Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    if "/connexion/double-authentification/" in page.url:
        second_factor(page, identifier)


def second_factor(page, identifier: str):
    """Organisme staff and operators: type the authenticator app's code (enrolling the app
    from the key the page shows, the first time)."""
    if "/activation/" in page.url:
        secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
        field(page, "Code de vérification").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
        page.get_by_role("button", name="Activer").click()
        page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    else:
        device = TOTPDevice.objects.get(user__email__iexact=identifier, confirmed=True)
        field(page, "Code de vérification").fill(totp_code(device))
        page.get_by_role("button", name="Valider le code").click()
    page.wait_for_load_state()


def add_authenticator_app(page, on_codes=lambda: None) -> list[str]:
    """« Mon compte → Sécurité » → « Ajouter une application d'authentification »: type the
    first code from the key the page shows; return the recovery codes shown once (``on_codes``
    is called on their page)."""
    page.get_by_role("link", name="Ajouter une application d'authentification").click()
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    field(page, "Code de vérification").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
    page.get_by_role("button", name="Enregistrer l'application").click()
    # all_inner_texts() does not wait: wait for the page that shows the codes first.
    expect(page.locator("#codes-de-secours code").first).to_be_visible()
    codes = page.locator("#codes-de-secours code").all_inner_texts()
    on_codes()
    page.get_by_role("link", name="J'ai noté mes codes").click()
    return codes


def sign_up(page, send_queued_emails, *, nir: str, last_name: str, first_name: str, birth_date: str, email: str, password: str = "Formation2020"):
    """« Je crée mon compte » filled in from the signup page, then the code e-mailed typed in:
    the account is activated (the page says so)."""
    field(page, "Numéro de sécurité sociale").fill(nir)
    field(page, "Nom de naissance").fill(last_name)
    field(page, "Prénom").fill(first_name)
    field(page, "Date de naissance").fill(birth_date)
    field(page, "Adresse électronique").fill(email)
    field(page, "Confirmation de l'adresse électronique").fill(email)
    field(page, "Mot de passe").fill(password)
    field(page, "Confirmation du mot de passe").fill(password)
    tick(page, "J'ai lu et j'accepte les conditions générales d'utilisation")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Activation de mon compte")).to_be_visible()
    send_queued_emails()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    field(page, "Code reçu par courriel").fill(code)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Votre compte est activé")).to_be_visible()


def pay_by_card(page, amount: str):
    """On the acceptance page: the test card, then « Payer <amount> et accepter »."""
    field(page, "Numéro de carte").fill("4242 4242 4242 4242")
    field(page, "Nom du titulaire de la carte").fill("Camille Durand")
    field(page, "Date d'expiration").fill("12/30")
    field(page, "Cryptogramme visuel").fill("987")
    page.get_by_role("button", name=f"Payer {amount} et accepter").click()


def tick(page, label: str):
    """Tick a DSFR checkbox the way a person does: by clicking its label (the input itself
    is visually replaced by the label's box)."""
    page.locator("label", has_text=label).click()


@pytest.fixture
def audit_page(browser, browser_context_args):
    """A page for the accessibility audits: the CSP bypassed so that axe-core can be injected."""
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page(page):
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under e2e/screenshots/ (git-ignored) for a person to look at."""

    def take(name: str):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
