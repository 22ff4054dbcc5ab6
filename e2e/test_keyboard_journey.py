"""The titulaire's whole journey with the keyboard alone — Tab to move, Enter to follow a
link or press a button, Space to tick, typing to fill fields and to pick in a list — never a
mouse click. At every stop the focus is visible. Only the file of the DIF attestation is
handed over directly (a file chooser is the operating system's, not the page's).

signup → code → login → DIF of 50 h → « anglais » near Metz → the session → dossier →
informations → « Envoyer mon dossier » → (the organisme proposes) → accept and pay by card →
(the training takes place) → evaluate it."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import OrganismeStaffFactory, totp_code
from catalogue.seed import ensure_seed_example
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import OrganismeFactory, commune
from dossiers import services
from dossiers.models import Dossier
from dossiers.tests.factories import after_start
from dossiers.workflow import Actor, Status
from e2e.conftest import field
from financing.models import Payment
from financing.tests.factories import PDF_BYTES

SEED_TITLE = "Anglais - Test Bright Language - évaluation d'Anglais professionnel"

# Whether the focused element shows a focus ring: its own outline, or — for DSFR's radios
# and checkboxes, whose input is visually replaced by its label — the label's ::before.
FOCUS_RING_JS = """(el) => {
  const ring = (style) => style && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  if (ring(getComputedStyle(el))) return true;
  if (el.labels && el.labels.length) {
    const label = el.labels[0];
    return ring(getComputedStyle(label, '::before')) || ring(getComputedStyle(label, '::after')) || ring(getComputedStyle(label));
  }
  return false;
}"""


class Keyboard:
    def __init__(self, page):
        self.page = page
        self.stops = 0

    def tab_to(self, target, max_tabs: int = 120):
        """Press Tab until ``target`` has the focus (a locator found by its accessible name)."""
        target = target.first if hasattr(target, "first") else target
        for _ in range(max_tabs):
            self.page.keyboard.press("Tab")
            self.stops += 1
            if target.evaluate("el => el === document.activeElement"):
                assert target.evaluate(FOCUS_RING_JS), f"pas de focus visible sur {target}"
                return target
        raise AssertionError(f"{target} n'est pas atteignable à la tabulation")

    def skip_to_content(self):
        """The first Tab reaches the « Contenu » skip link; Enter moves into the page's content.
        (A page opened at an anchor — #contenu after a form sent from there, #financement
        after « Valider » — already starts there: nothing to skip.)"""
        if "#" in self.page.url:
            return
        self.page.keyboard.press("Tab")
        self.stops += 1
        focused = self.page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
        assert focused == '<a class="fr-link" href="#contenu">Contenu</a>', f"le premier arrêt de tabulation est {focused}"
        self.page.keyboard.press("Enter")

    def follow(self, target):
        """Enter on a link or a submit button: a new page."""
        self.tab_to(target)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    press = follow

    def fill(self, target, text: str):
        self.tab_to(target)
        self.page.keyboard.type(text)

    def fill_date(self, target, day: datetime.date):
        """Type a date into a date field, segment by segment. The order of the segments is
        the browser's (jj/mm/aaaa in French, mm/dd/yyyy in a browser without French locale
        data): if the field shows another date than meant, go back to its first segment
        with the arrow keys and type it in the other order, as a person would."""
        self.tab_to(target)
        self.page.keyboard.type(f"{day:%d%m%Y}")
        if target.input_value() != day.isoformat():
            self.page.keyboard.press("ArrowLeft")
            self.page.keyboard.press("ArrowLeft")
            self.page.keyboard.type(f"{day:%m%d%Y}")
        assert target.input_value() == day.isoformat()

    def pick(self, target, option_text: str):
        """Choose in a closed <select> by typing the start of the option (typeahead)."""
        self.tab_to(target)
        self.page.keyboard.type(option_text, delay=20)

    def tick(self, target):
        self.tab_to(target)
        self.page.keyboard.press("Space")


def start_page(page, url):
    """A new page is opened by address, as a person types it; no click."""
    page.goto(url)


@pytest.mark.django_db(transaction=True)
def test_the_titulaire_journey_with_the_keyboard_alone(live_server, page, settings, tmp_path, screenshot, send_queued_emails):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=60)
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    staff = OrganismeStaffFactory(organisme=organisme)
    ensure_seed_example(organisme, today=timezone.localdate())
    commune("montigny")
    search_terms_refresh()
    attestation = tmp_path / "attestation.pdf"
    attestation.write_bytes(PDF_BYTES)
    page.set_viewport_size({"width": 1280, "height": 900})
    keys = Keyboard(page)

    # --- Signup from the home page.
    start_page(page, live_server.url)
    keys.follow(page.get_by_role("link", name="Je crée mon compte"))
    expect(page).to_have_title("Je crée mon compte – Mon Compte Formation")
    keys.skip_to_content()
    keys.fill(field(page, "Numéro de sécurité sociale"), "2 95 10 99 126 111 93")
    keys.fill(field(page, "Nom de naissance"), "Durand")
    keys.fill(field(page, "Prénom"), "Camille")
    keys.fill_date(field(page, "Date de naissance"), datetime.date(1995, 10, 3))
    keys.fill(field(page, "Adresse électronique"), "camille.durand@exemple.fr")
    keys.fill(field(page, "Confirmation de l'adresse électronique"), "camille.durand@exemple.fr")
    keys.fill(field(page, "Mot de passe"), "Formation2020")
    keys.fill(field(page, "Confirmation du mot de passe"), "Formation2020")
    keys.tick(page.get_by_role("checkbox", name=re.compile("J'ai lu et j'accepte les conditions générales")))
    keys.press(page.get_by_role("button", name="Créer mon compte"))
    expect(page.get_by_role("heading", name="Activation de mon compte")).to_be_visible()
    send_queued_emails()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    keys.fill(field(page, "Code reçu par courriel"), code)
    keys.press(page.get_by_role("button", name="Continuer"))
    expect(page.get_by_text("Votre compte est activé")).to_be_visible()

    # --- Login.
    keys.fill(field(page, "Numéro de sécurité sociale ou adresse électronique"), "295109912611193")
    keys.fill(field(page, "Mot de passe"), "Formation2020")
    keys.press(page.get_by_role("button", name="Se connecter"))
    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()

    # --- 50 hours of DIF.
    keys.follow(page.get_by_role("link", name="Mes droits formation"))
    keys.skip_to_content()
    keys.follow(page.get_by_role("link", name="Saisir mon solde DIF"))
    keys.skip_to_content()
    keys.tick(page.get_by_role("radio", name="Un seul employeur"))
    first = page.get_by_role("group", name="Attestation 1", exact=True)
    keys.fill(field(first, "Employeur"), "Boulangerie Martin")
    keys.fill(field(first, "Heures DIF indiquées sur l'attestation"), "50")
    keys.fill_date(field(first, "Date de l'attestation"), datetime.date(2014, 12, 31))
    upload = field(first, "Attestation (PDF, JPEG ou PNG, 5 Mo maximum)")
    keys.tab_to(upload)
    upload.set_input_files(str(attestation))
    keys.press(page.get_by_role("button", name="Enregistrer"))
    expect(page.locator("#droits-disponibles")).to_have_text("750,00\u00a0€")

    # --- Search, open the training, start the dossier.
    keys.follow(page.get_by_role("link", name="Rechercher une formation"))
    keys.skip_to_content()
    keys.fill(field(page, "Quelle formation ?"), "anglais")
    keys.fill(field(page, "Où ?"), "Metz")
    keys.press(page.get_by_role("button", name="Rechercher"))
    expect(page.get_by_role("heading", name=re.compile(r"^1 formation trouvée"))).to_be_visible()
    keys.skip_to_content()
    keys.follow(page.get_by_role("link", name=re.compile("^Voir le détail")))
    expect(page.get_by_role("heading", name=SEED_TITLE, level=1)).to_be_visible()
    keys.skip_to_content()
    keys.follow(page.get_by_role("link", name="S'inscrire à cette session"))
    keys.skip_to_content()
    keys.press(page.get_by_role("button", name="Continuer"))
    expect(page.get_by_role("heading", name=re.compile(r"^Dossier n° \d{10}$"))).to_be_visible()
    numero = Dossier.objects.get().numero

    # --- Mes informations of the dossier, lists chosen by typing.
    keys.skip_to_content()
    pro = page.get_by_role("group", name="Mes informations professionnelles")
    keys.pick(pro.get_by_label("Diplôme le plus élevé obtenu"), "Bacc")
    keys.fill(field(pro, "Année d'obtention"), "2013")
    keys.pick(pro.get_by_label("Catégorie socio-professionnelle"), "Employé")
    keys.pick(pro.get_by_label("Situation professionnelle"), "Salarié")
    perso = page.get_by_role("group", name="Mes informations personnelles")
    keys.fill(field(perso, "Téléphone mobile"), "06 12 34 56 78")
    keys.fill(field(perso, "Confirmation du courriel"), "camille.durand@exemple.fr")
    keys.fill(field(perso, "Numéro de voie"), "12")
    keys.pick(perso.get_by_label("Type de voie"), "Rue")
    keys.fill(field(perso, "Libellé de la voie"), "Serpenoise")
    keys.fill(field(perso, "Code postal"), "57000")
    keys.fill(field(perso, "Ville"), "Metz")
    keys.press(page.get_by_role("button", name="Valider"))
    expect(page.locator("#reste-a-payer")).to_have_text("120,00\u00a0€")

    # --- Financing and sending.
    keys.skip_to_content()
    keys.tick(page.get_by_role("checkbox", name=re.compile("J'accepte de prendre en charge le reste à payer de 120,00")))
    keys.press(page.get_by_role("button", name="Envoyer mon dossier"))
    expect(page.get_by_text(f"Votre dossier n° {numero} est envoyé")).to_be_visible()

    # --- The organisme validates (its own back office, not this journey).
    dossier = Dossier.objects.get(numero=numero)
    services.dossier_transition(
        dossier_id=dossier.pk,
        name="propose",
        actor=Actor.ORGANISME,
        by=staff,
        payload={
            "price_cents": dossier.price_cents,
            "start_date": dossier.start_date,
            "end_date": dossier.end_date,
            "duree_heures": dossier.duree_heures,
        },
    )

    # --- Accept and pay the reste à payer by card.
    keys.follow(page.get_by_role("link", name="Mes dossiers"))
    keys.skip_to_content()
    keys.follow(page.get_by_role("link", name=f"Dossier n° {numero}"))
    expect(page.get_by_role("heading", name="Proposition de l'organisme")).to_be_visible()
    keys.skip_to_content()
    # The strong confirmation first, with the authenticator app (enrolled on another day).
    app = TOTPDevice.objects.create(user=User.objects.get(email="camille.durand@exemple.fr"), name="Application", confirmed=True)
    keys.follow(page.get_by_role("link", name="Accepter la proposition"))
    keys.skip_to_content()
    keys.fill(field(page, "Code de mon application d'authentification"), totp_code(app))
    keys.press(page.get_by_role("button", name="Confirmer avec le code de l'application"))
    expect(page.get_by_text("Votre identité est confirmée.")).to_be_visible()
    keys.skip_to_content()
    keys.fill(field(page, "Numéro de carte"), "4242 4242 4242 4242")
    keys.fill(field(page, "Nom du titulaire de la carte"), "Camille Durand")
    keys.fill(field(page, "Date d'expiration"), "12/30")
    keys.fill(field(page, "Cryptogramme visuel"), "987")
    keys.press(page.get_by_role("button", name="Payer 120,00\u00a0€ et accepter"))
    expect(page.get_by_text("Votre inscription est confirmée. Paiement de 120,00\u00a0€ accepté.")).to_be_visible()
    screenshot("clavier-inscription-confirmee")

    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.locked_cents == 75_000
    assert Payment.objects.get(reference=f"dossier:{numero}").amount_cents == 12_000

    # --- The training took place (the organisme declares the entry, then the exit, in its own
    # back office); the titulaire evaluates it: Space to confirm, arrows to choose the stars.
    services.dossier_transition(dossier_id=dossier.pk, name="enter", actor=Actor.ORGANISME, by=staff, now=after_start(dossier))
    services.dossier_transition(
        dossier_id=dossier.pk,
        name="declare_service_done",
        actor=Actor.ORGANISME,
        by=staff,
        payload={"exit_reason": "complete", "completion_rate": 100, "exit_date": dossier.effective_end_date, "force_majeure": False},
        now=after_start(dossier, days=10),
    )
    keys.follow(page.get_by_role("link", name="Mes dossiers"))
    keys.skip_to_content()
    keys.follow(page.get_by_role("link", name=re.compile("^Évaluer « Anglais")))
    keys.skip_to_content()
    keys.tick(page.get_by_role("checkbox", name="Je confirme avoir suivi cette formation"))
    for criterion, stars in (("Accueil", 5), ("Contenu", 4), ("Équipe pédagogique", 5), ("Moyens", 4), ("Accompagnement", 5)):
        group = page.get_by_role("group", name=re.compile("^" + re.escape(criterion)))
        keys.tab_to(group.get_by_role("radio", name="1 étoile", exact=True))
        for _ in range(stars - 1):
            page.keyboard.press("ArrowRight")
    keys.press(page.get_by_role("button", name="Envoyer mon évaluation"))
    expect(page.get_by_text("Merci, votre évaluation est enregistrée.")).to_be_visible()
    assert dossier.evaluation.overall_label == "4,6 / 5"
    assert keys.stops > 50  # the whole journey went through the Tab key
