"""RGAA-level checks in a real browser: every page of the titulaire's, the organisme's and
the conseiller's journeys — including the error states of their forms and the dossier in
each of its states — with zero axe-core violations (desktop and 320 px), zero Nu HTML
validator errors, no horizontal scrolling at 320 px, and unique « Étape – Mon Compte
Formation » titles. Screenshots of every page at both widths land in e2e/screenshots/."""

import datetime
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from accounts.tests.factories import ConseillerFactory, OperatorFactory, OrganismeStaffFactory, StructureFactory, TitulaireFactory, nir_for
from catalogue.seed import ensure_seed_example
from catalogue.services import search_terms_refresh
from catalogue.tests.factories import CertificationFactory, OrganismeFactory, commune
from dossiers import services
from dossiers.tests import factories as f
from dossiers.workflow import Actor
from e2e.a11y import Audit
from e2e.conftest import SCREENSHOTS, add_authenticator_app, field, login, tick
from financing.models import DatedRule, Payment
from notifications.models import Email
from notifications.services import unseal
from securite import services as strong

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(db, settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=60)
    organisme = OrganismeFactory(raison_sociale="CP-FORMATION", email="inscriptions@cp-formation.example")
    seed = ensure_seed_example(organisme, today=timezone.localdate())
    commune("montigny")
    search_terms_refresh()
    structure = StructureFactory(name="France Travail Metz", commune=commune("metz"))
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand", email="camille@exemple.fr", interlocuteur=structure)
    f.give_rights(titulaire, 300_000)
    return {
        "organisme": organisme,
        "seed": seed,
        "staff": OrganismeStaffFactory(organisme=organisme, email="agent@cp-formation.example"),
        "structure": structure,
        "titulaire": titulaire,
        "conseiller": ConseillerFactory(structure=structure, email="conseil@france-travail.example"),
    }


def dossiers_in_every_state(cast):
    titulaire, organisme, staff = cast["titulaire"], cast["organisme"], cast["staff"]

    def session():  # one session per dossier
        return f.session_for(organisme)

    states = {
        "brouillon": f.draft(titulaire, session(), info=False),
        "envoye": f.sent(titulaire, session()),
        "propose": f.proposed(titulaire, session(), staff, price_cents=90_000),
        "accepte": f.accepted(titulaire, session(), staff),
        "en-formation": f.in_training(titulaire, session(), staff),
        "service-fait": f.service_done(titulaire, session(), staff, exit_reason="abandon", rate=60),
    }
    debited = f.service_done(titulaire, session(), staff)
    services.validate_due_services(now=debited.deadline_at)
    states["debite"] = debited
    refused = f.sent(titulaire, session())
    states["refuse"] = services.dossier_transition(
        dossier_id=refused.pk, name="refuse", actor=Actor.ORGANISME, by=staff, payload={"reason": "Session complète"}
    )
    return states


def test_titulaire_journey_pages(live_server, audit_page, cast, send_queued_emails, settings):
    page, url = audit_page, live_server.url
    audit = Audit(page, "titulaire", SCREENSHOTS)

    # --- Public pages.
    audit.visit(url + "/", "accueil")
    for path, name in [
        ("/aide/", "aide"),
        ("/aide/compte-personnel-de-formation/", "aide-cpf"),
        ("/aide/dif/", "aide-dif"),
        ("/aide/etapes-du-dossier/", "aide-dossier"),
        ("/accessibilite/", "accessibilite"),
        ("/donnees-personnelles/", "donnees-personnelles"),
        ("/conditions-generales-d-utilisation/", "cgu"),
    ]:
        audit.visit(url + path, name)
    audit.visit(url + "/aide/contact/", "contact")
    page.get_by_role("button", name="Envoyer ma demande").click()
    audit.check("contact-erreurs")
    page.goto(url + "/cette-page-n-existe-pas/")
    audit.check("page-404")

    # --- Catalogue, anonymous.
    audit.visit(url + "/formations/recherche/", "recherche")
    field(page, "Quelle formation ?").fill("anglais")
    field(page, "Où ?").fill("Metz")
    page.get_by_role("button", name="Rechercher").click()
    audit.check("recherche-resultats")
    page.get_by_role("link", name="Voir le détail").first.click()
    audit.check("formation-depuis-recherche")  # its breadcrumb back to the results
    page.goto(url + "/formations/recherche/?quoi=anglais&ou=Metz&a_distance=on&prix_max=1000&duree=court&tri=prix")
    audit.check("recherche-filtres")  # « Affiner la recherche » open, with its count
    page.goto(url + "/formations/recherche/?quoi=anglais&a_distance=on&prix_max=beaucoup")
    audit.check("recherche-erreur-filtre")
    page.goto(url + "/formations/recherche/?quoi=anglias")
    audit.check("recherche-correction")
    page.goto(url + "/formations/recherche/?quoi=anglais&ou=Zzzzzz")
    audit.check("recherche-erreur-lieu")
    page.goto(url + f"/formations/{cast['seed'].numero}/")
    audit.check("formation")

    # --- Signup, activation, login, password reset (with their error states).
    audit.visit(url + "/inscription/", "inscription")
    page.get_by_role("button", name="Créer mon compte").click()
    audit.check("inscription-erreurs")
    field(page, "Numéro de sécurité sociale").fill("2 95 10 99 126 111 93")
    field(page, "Nom de naissance").fill("Martin")
    field(page, "Prénom").fill("Alix")
    field(page, "Date de naissance").fill("1995-10-03")
    field(page, "Adresse électronique").fill("alix.martin@exemple.fr")
    field(page, "Confirmation de l'adresse électronique").fill("alix.martin@exemple.fr")
    field(page, "Mot de passe").fill("Formation2020")
    field(page, "Confirmation du mot de passe").fill("Formation2020")
    tick(page, "J'ai lu et j'accepte les conditions générales d'utilisation")
    page.get_by_role("button", name="Créer mon compte").click()
    audit.check("activation")
    field(page, "Code reçu par courriel").fill("000000")
    page.get_by_role("button", name="Continuer").click()
    audit.check("activation-erreur")
    send_queued_emails()
    field(page, "Code reçu par courriel").fill(re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1))
    page.get_by_role("button", name="Continuer").click()
    audit.check("connexion-compte-active")
    field(page, "Mot de passe").fill("mauvais")
    page.get_by_role("button", name="Se connecter").click()
    audit.check("connexion-erreur")
    audit.visit(url + "/mot-de-passe-oublie/", "mot-de-passe-oublie")
    field(page, "Adresse électronique").fill("camille@exemple.fr")
    page.get_by_role("button", name="Recevoir un lien de réinitialisation").click()
    audit.check("mot-de-passe-oublie-envoye")
    titulaire = cast["titulaire"]
    uid = urlsafe_base64_encode(force_bytes(titulaire.pk))
    page.goto(f"{url}/mot-de-passe-oublie/{uid}/{default_token_generator.make_token(titulaire)}/")
    page.wait_for_url(re.compile(r"/set-password/$"))
    audit.check("nouveau-mot-de-passe")
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    audit.check("nouveau-mot-de-passe-erreurs")

    # --- The titulaire's own pages, with a dossier in every state.
    states = dossiers_in_every_state(cast)
    login(page, live_server, "camille@exemple.fr")
    audit.check("mon-compte")
    audit.visit(url + "/", "accueil-titulaire")  # the balance and the dossiers waiting for her
    audit.visit(url + "/mon-compte/mes-informations/", "mes-informations")
    field(page, "Code postal").fill("5700")
    page.get_by_role("button", name="Enregistrer").click()
    audit.check("mes-informations-erreurs")
    audit.visit(url + "/mon-compte/mot-de-passe/", "mot-de-passe")
    page.get_by_role("button", name="Modifier mon mot de passe").click()
    audit.check("mot-de-passe-erreurs")
    audit.visit(url + "/mon-compte/mes-interlocuteurs/", "interlocuteurs")
    field(page, "Commune ou code postal").fill("Metz")
    page.get_by_role("button", name="Rechercher").click()
    audit.check("interlocuteurs-resultats")
    page.goto(url + "/mon-compte/mes-interlocuteurs/?departement=999")
    audit.check("interlocuteurs-erreur")
    audit.visit(url + "/mes-droits/", "mes-droits")
    audit.visit(url + "/mes-droits/dif/", "dif")
    page.get_by_role("button", name="Enregistrer").click()
    audit.check("dif-erreurs")
    page.goto(url + f"/formations/{cast['seed'].numero}/")
    page.get_by_role("button", name="Ajouter aux favoris").click()
    audit.check("formation-favori")
    audit.visit(url + "/mes-favoris/", "mes-favoris")
    audit.visit(url + "/mes-notifications/", "mes-notifications")

    # A new dossier from the seed session, through its own forms.
    page.goto(url + f"/formations/{cast['seed'].numero}/")
    page.get_by_role("link", name="S'inscrire à cette session").first.click()
    audit.check("inscription-session")
    page.get_by_role("button", name="Continuer").click()
    audit.check("dossier-nouveau")
    page.get_by_role("button", name="Valider").click()
    audit.check("dossier-informations-erreurs")
    # A salarié's permis: not sendable without a co-financing; he declares one.
    DatedRule.objects.get_or_create(key=DatedRule.Key.PERMIS_MIN_COFINANCING, start_date=datetime.date(2026, 3, 1), defaults={"value": 10_000})
    permis = f.session_for(cast["organisme"])
    permis.formation.certification = CertificationFactory(type="PERMIS", code="PERMIS-B")
    permis.formation.save(update_fields=["certification"])
    audit.visit(url + f"/mes-dossiers/{f.draft(titulaire, permis).numero}/", "dossier-permis-sans-cofinancement")
    page.get_by_role("button", name="Déclarer ce cofinancement").click()
    audit.check("cofinancement-erreurs")
    page.get_by_label("Nom du financeur").fill("Transports Lorrains")
    page.get_by_label("Montant du cofinancement (€)").fill("100")
    page.get_by_role("button", name="Déclarer ce cofinancement").click()
    audit.check("dossier-permis-cofinance")
    audit.visit(url + "/mes-dossiers/", "mes-dossiers")
    for name, dossier in states.items():
        audit.visit(url + f"/mes-dossiers/{dossier.numero}/", f"dossier-{name}")
    # The strong confirmation of the purchase: none yet, then « Sécurité », then each factor.
    settings.CPF_PURCHASE_FACTORS = ["passkey", "franceconnect_plus", "totp", "email"]
    settings.CPF_FRAUD_MAX_PURCHASES_PER_DAY = 10  # the factories bought the other states' trainings today
    accept_url = url + f"/mes-dossiers/{states['propose'].numero}/acceptation/"
    audit.visit(accept_url, "acceptation-sans-moyen")
    audit.visit(url + "/mon-compte/securite/", "securite")
    audit.visit(url + "/mon-compte/securite/application/", "application-authentification")
    page.get_by_role("button", name="Enregistrer l'application").click()
    audit.check("application-authentification-erreurs")
    page.goto(url + "/mon-compte/securite/")
    codes = add_authenticator_app(page, on_codes=lambda: audit.check("codes-de-secours"))
    audit.check("securite-avec-application")
    audit.visit(accept_url, "acceptation-confirmation")
    field(page, "Code de mon application d'authentification").fill("000000")
    page.get_by_role("button", name="Confirmer avec le code de l'application").click()
    audit.check("acceptation-code-errone")
    field(page, "Code de mon application d'authentification").fill(codes[0])
    page.get_by_role("button", name="Confirmer avec le code de l'application").click()
    audit.check("acceptation")
    page.get_by_role("button", name=re.compile("^Payer .* et accepter$")).click()
    audit.check("acceptation-erreurs")
    # « Ce n'est pas moi » from the purchase e-mail: the page, a broken link, the freeze.
    strong.purchase_made(user=titulaire, dossier=states["accepte"])
    purchase = Email.objects.filter(template="securite/emails/purchase").latest("created_at")
    not_me = re.search(r"(/ce-n-est-pas-moi/\S+/)", unseal(purchase.sealed)[1]).group(1)
    audit.visit(url + not_me, "ce-n-est-pas-moi")
    audit.visit(url + "/ce-n-est-pas-moi/lien-abime/", "ce-n-est-pas-moi-lien-invalide")
    page.goto(url + not_me)
    page.get_by_role("button", name="Bloquer mes achats").click()
    audit.check("achats-bloques")
    frozen = f.proposed(titulaire, f.session_for(cast["organisme"]), cast["staff"])
    audit.visit(url + f"/mes-dossiers/{frozen.numero}/acceptation/", "acceptation-achats-bloques")
    payment = Payment.objects.filter(user=titulaire, status=Payment.Status.SUCCEEDED).first()
    audit.visit(url + f"/mes-paiements/{payment.public_id}/recu/", "recu")
    audit.visit(url + "/mon-compte/mes-donnees/", "mes-donnees")
    # A stale tab: the draft is sent from elsewhere, then « Valider » is pressed on the old page.
    draft = states["brouillon"]
    page.goto(url + f"/mes-dossiers/{draft.numero}/")
    services.dossier_save_info(
        dossier=draft, titulaire=titulaire, professional=f.PROFESSIONAL, personal={**f.PERSONAL, "email": titulaire.email}, save_to_account=False
    )
    draft.refresh_from_db()
    services.dossier_transition(
        dossier_id=draft.pk, name="send", actor=Actor.TITULAIRE, by=titulaire, payload={"consent": True}, expected_version=draft.version
    )
    page.get_by_role("button", name="Valider").click()
    audit.check("action-impossible")

    count = audit.assert_clean()
    assert count >= 50


def test_documents_and_rights_pages(live_server, audit_page, cast):
    """« Mes documents » (empty, then with a receipt, an attestation and a certificate), the
    rights page with its chart, the chart's table opened and the history grouped per dossier,
    and « Mon financement » on a finished dossier."""
    page, url = audit_page, live_server.url
    titulaire = TitulaireFactory(first_name="Alix", last_name="Martin", email="alix@exemple.fr")
    audit = Audit(page, "documents", SCREENSHOTS)
    login(page, live_server, titulaire.email)
    audit.visit(url + "/mon-compte/mes-documents/", "mes-documents-vide")
    f.give_rights(titulaire, 50_000)  # below the price: a card payment, hence a receipt
    f.accepted(titulaire, f.session_for(cast["organisme"]), cast["staff"])
    debited = f.service_done(titulaire, f.session_for(cast["organisme"]), cast["staff"])
    services.validate_due_services(now=debited.deadline_at)
    audit.visit(url + "/mon-compte/mes-documents/", "mes-documents")
    page.get_by_role("button", name="Générer une attestation de droits à la date du jour").click()
    audit.check("mes-documents-attestation-generee")
    audit.visit(url + "/mes-droits/", "mes-droits-graphique-et-historique")
    page.locator("summary", has_text="Afficher les données du graphique").click()
    expect(page.get_by_role("table", name="Droits disponibles en fin de journée, par jour de mouvement")).to_be_visible()
    audit.check("mes-droits-donnees-du-graphique")
    audit.visit(url + f"/mes-dossiers/{debited.numero}/", "dossier-debite-financement")
    assert audit.assert_clean() == 6


def test_confirmation_pages(live_server, audit_page, cast):
    """« Supprimer mon dossier », « Annuler ma demande », « Annuler ma formation »: the pages
    that say what will happen before it is done, the dossier once cancelled, and « Mes
    dossiers » (stacked cards at 320 px)."""
    page, url, titulaire, staff = audit_page, live_server.url, cast["titulaire"], cast["staff"]
    draft = f.draft(titulaire, f.session_for(cast["organisme"]))
    sent = f.sent(titulaire, f.session_for(cast["organisme"]))
    accepted = f.accepted(titulaire, f.session_for(cast["organisme"]), staff)
    audit = Audit(page, "confirmations", SCREENSHOTS)
    login(page, live_server, titulaire.email)
    audit.visit(url + f"/mes-dossiers/{draft.numero}/actions/delete/", "confirmer-suppression")
    audit.visit(url + f"/mes-dossiers/{sent.numero}/actions/cancel_request/", "confirmer-annulation-demande")
    audit.visit(url + f"/mes-dossiers/{accepted.numero}/actions/cancel/", "confirmer-annulation-formation")
    page.get_by_role("button", name="Annuler ma formation").click()
    audit.check("formation-annulee")
    audit.visit(url + "/mes-dossiers/", "mes-dossiers-cartes")
    assert audit.assert_clean() == 5


def test_organisme_journey_pages(live_server, audit_page, cast):
    page, url = audit_page, live_server.url
    states = dossiers_in_every_state(cast)
    audit = Audit(page, "organisme", SCREENSHOTS)
    login(page, live_server, cast["staff"].email)
    audit.check("espace-organisme")
    audit.visit(url + "/espace-organisme/catalogue/", "catalogue")
    audit.visit(url + "/espace-organisme/catalogue/nouvelle/", "formation-nouvelle")
    page.get_by_role("button", name="Créer la formation").click()
    audit.check("formation-nouvelle-erreurs")
    audit.visit(url + f"/espace-organisme/catalogue/{cast['seed'].public_id}/", "formation")
    audit.visit(url + f"/espace-organisme/catalogue/{cast['seed'].public_id}/actions/nouvelle/", "action-nouvelle")
    page.get_by_label("Durée indicative en heures").fill("0")
    page.get_by_role("button", name="Créer l'action").click()
    audit.check("action-nouvelle-erreurs")
    action = cast["seed"].actions.first()
    audit.visit(url + f"/espace-organisme/actions/{action.public_id}/", "action")
    audit.visit(url + f"/espace-organisme/actions/{action.public_id}/sessions/nouvelle/", "session-nouvelle")
    page.get_by_role("button", name="Enregistrer la session").click()
    audit.check("session-nouvelle-erreurs")
    audit.visit(url + f"/espace-organisme/sessions/{cast['seed'].sessions.first().public_id}/", "session")

    audit.visit(url + "/espace-organisme/dossiers/", "dossiers")
    page.get_by_label("État").select_option("sent")
    page.get_by_role("button", name="Filtrer").click()
    audit.check("dossiers-filtre")
    for name, dossier in states.items():
        if name != "brouillon":  # drafts are the titulaire's own
            audit.visit(url + f"/espace-organisme/dossiers/{dossier.numero}/", f"dossier-{name}")
    page.goto(url + f"/espace-organisme/dossiers/{states['envoye'].numero}/")
    field(page, "Prix TTC (€)").fill("")
    page.get_by_role("button", name="Valider").click()
    audit.check("proposition-erreurs")
    page.get_by_role("button", name="Refuser").click()
    audit.check("refus-erreurs")
    page.goto(url + f"/espace-organisme/dossiers/{states['en-formation'].numero}/")
    page.get_by_role("button", name="Déclarer la sortie / service fait").click()
    audit.check("service-fait-erreurs")
    assert audit.assert_clean() >= 20


def test_organisme_billing_pages(live_server, audit_page, cast):
    """« Facturation »: to bill (without bank details, with a refused submit), bank details
    (with errors), an invoice and its credit-note form in error, a credit note, « Suivi des
    règlements » (with a filter in error)."""
    from billing.tests.conftest import finished

    page, url, staff, organisme = audit_page, live_server.url, cast["staff"], cast["organisme"]
    dossiers = [finished(staff, f.session_for(organisme, price_cents=price)) for price in (87_000, 120_000)]
    audit = Audit(page, "facturation", SCREENSHOTS)
    login(page, live_server, staff.email)
    audit.visit(url + "/espace-organisme/facturation/", "a-facturer-sans-rib")
    audit.visit(url + "/espace-organisme/facturation/coordonnees-bancaires/", "rib")
    field(page, "IBAN").fill("FR76 0000")
    page.get_by_role("button", name="Enregistrer").click()
    audit.check("rib-erreurs")
    field(page, "IBAN").fill("FR76 3000 4000 0100 0012 3456 789")
    field(page, "BIC").fill("BNPAFRPPXXX")
    page.get_by_role("button", name="Enregistrer").click()
    audit.check("rib-enregistre")
    audit.visit(url + "/espace-organisme/facturation/", "a-facturer")
    page.get_by_role("button", name="Facturer la sélection").click()
    audit.check("a-facturer-erreur")
    tick(page, f"Facturer le dossier n° {dossiers[0].numero}")
    page.get_by_role("button", name="Facturer la sélection").click()
    audit.check("facture")
    page.get_by_role("button", name="Émettre un avoir").click()
    audit.check("avoir-erreur")
    field(page, "Motif de l'avoir").fill("Erreur de session")
    page.get_by_role("button", name="Émettre un avoir").click()
    audit.check("avoir")
    audit.visit(url + "/espace-organisme/facturation/factures/", "suivi-des-reglements")
    page.goto(url + "/espace-organisme/facturation/factures/?issued_from=2026-12-10&issued_to=2026-12-01")
    audit.check("suivi-des-reglements-erreur")
    audit.visit(url + f"/espace-organisme/dossiers/{dossiers[1].numero}/", "dossier-a-facturer")
    # A service fait in control: the alert and the proof form, with its error.
    declared = f.service_done(cast["titulaire"], f.session_for(organisme), staff)
    services.control_open(dossier_id=declared.pk, by=OperatorFactory(), reason="Contrôle aléatoire")
    audit.visit(url + f"/espace-organisme/dossiers/{declared.numero}/", "dossier-en-controle")
    page.get_by_role("button", name="Déposer le justificatif").click()
    audit.check("justificatif-erreur")
    # The titulaire's side of a no-show (an avoir) and of a cancellation in time (a refund).
    titulaire = cast["titulaire"]
    # Priced above the rights, so that card money is paid whatever the participation in force.
    cancelled = f.accepted(titulaire, f.session_for(organisme, price_cents=400_000), staff)
    services.dossier_transition(dossier_id=cancelled.pk, name="cancel", actor=Actor.TITULAIRE, by=titulaire, payload={"reason": "Déménagement"})
    absent = f.accepted(titulaire, f.session_for(organisme, price_cents=400_000), staff)
    services.dossier_transition(dossier_id=absent.pk, name="no_show", actor=Actor.ORGANISME, by=staff, now=f.after_start(absent))
    login(page, live_server, titulaire.email)
    audit.visit(url + "/mes-droits/", "mes-droits-avoir-et-remboursement")
    expect(page.locator("#avoirs")).to_contain_text("Avoir de ")
    expect(page.locator("#remboursements")).to_contain_text("à effectuer au plus tard le")
    assert audit.assert_clean() == 15


def test_conseiller_journey_pages(live_server, audit_page, cast):
    page, _url = audit_page, live_server.url
    sent = f.sent(cast["titulaire"], f.session_for(cast["organisme"]))
    audit = Audit(page, "conseiller", SCREENSHOTS)
    login(page, live_server, cast["conseiller"].email)
    audit.check("espace-conseiller")
    page.get_by_role("link", name=re.compile(sent.numero)).click()
    audit.check("dossier")
    field(page, "Montant de l'abondement (€)").fill("0")
    page.get_by_role("button", name="Ajouter l'abondement").click()
    audit.check("abondement-erreur")
    field(page, "Montant de l'abondement (€)").fill("200")
    page.get_by_role("button", name="Ajouter l'abondement").click()
    expect(page.get_by_text("Abondement de 200,00\u00a0€ ajouté")).to_be_visible()
    audit.check("abondement-ajoute")
    assert audit.assert_clean() == 4


def test_cofinancing_request_pages(live_server, audit_page, cast):
    """« Demander un financement complémentaire »: the titulaire's section and form (in error),
    the request waiting; the conseiller's list, the request, the refusal (in error, then made)."""
    page, url = audit_page, live_server.url
    # Priced above the rights: something is left to pay whatever the participation in force.
    dossier = f.sent(cast["titulaire"], f.session_for(cast["organisme"], price_cents=400_000))
    audit = Audit(page, "financement-complementaire", SCREENSHOTS)
    login(page, live_server, cast["titulaire"].email)
    audit.visit(url + f"/mes-dossiers/{dossier.numero}/", "dossier-financement-complementaire")
    field(page, "Montant demandé (€)").fill("0")
    page.get_by_role("button", name="Demander un financement complémentaire").click()
    audit.check("demande-erreur")
    field(page, "Montant demandé (€)").fill("500")
    field(page, "Votre message au conseiller").fill("Je vise un poste de formateur.")
    page.get_by_role("button", name="Demander un financement complémentaire").click()
    expect(page.get_by_text("En attente de réponse")).to_be_visible()
    audit.check("dossier-demande-en-attente")
    login(page, live_server, cast["conseiller"].email)
    audit.visit(url + "/espace-conseiller/demandes/", "demandes")
    page.get_by_role("link", name=re.compile(f"Dossier n° {dossier.numero}")).click()
    audit.check("demande")
    page.get_by_role("button", name="Refuser la demande").click()
    audit.check("refus-erreur")
    field(page, "Motif du refus").fill("Le budget de l'année est épuisé.")
    page.get_by_role("button", name="Refuser la demande").click()
    expect(page.get_by_text("Demande refusée")).to_be_visible()
    audit.check("demande-refusee")
    login(page, live_server, cast["titulaire"].email)
    audit.visit(url + f"/mes-dossiers/{dossier.numero}/", "dossier-demande-refusee")
    expect(page.locator("#financement-complementaire")).to_contain_text("Motif : Le budget de l'année est épuisé.")
    assert audit.assert_clean() == 8


def test_team_and_two_factor_pages(live_server, audit_page, cast):
    """Two-factor enrolment (with an error), recovery codes, the code page (with an error);
    « Mon équipe » (invitation in error, pending invitation, log), a member's roles, « Mes
    organismes », the invitation link (account form in error, a used link)."""
    import base64

    from django_otp.oath import TOTP

    from notifications.models import Email
    from notifications.services import unseal

    page, url = audit_page, live_server.url
    responsable = OrganismeStaffFactory(organisme=cast["organisme"], email="responsable@cp-formation.example", first_name="Dominique")
    OrganismeStaffFactory(organisme=OrganismeFactory(raison_sociale="FORMA-EST"), email=responsable.email.replace("responsable", "autre"))
    audit = Audit(page, "equipe", SCREENSHOTS)
    page.context.clear_cookies()
    page.goto(url + "/connexion/")
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill(responsable.email)
    field(page, "Mot de passe").fill("Formation2020")
    page.get_by_role("button", name="Se connecter").click()
    audit.check("double-authentification-activation")
    page.get_by_role("button", name="Activer").click()
    audit.check("double-authentification-activation-erreur")
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    field(page, "Code de vérification").fill(f"{TOTP(base64.b32decode(secret)).token():06d}")
    page.get_by_role("button", name="Activer").click()
    audit.check("codes-de-secours")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    audit.visit(url + "/mon-compte/double-authentification/", "double-authentification")

    audit.visit(url + "/espace-organisme/equipe/", "equipe")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    audit.check("equipe-invitation-erreurs")
    field(page, "Adresse électronique de la personne").fill("nouvelle@cp-formation.example")
    tick(page, "Lecteur")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    audit.check("equipe-invitation-envoyee")
    page.get_by_role("link", name=re.compile("Modifier les rôles")).first.click()
    audit.check("equipe-roles")
    tick(page, "Responsable des accès (")  # unticks: no role left
    tick(page, "Gestionnaire (tout")
    page.get_by_role("button", name="Enregistrer les rôles").click()
    audit.check("equipe-roles-erreur")
    audit.visit(url + "/espace-organisme/mes-organismes/", "mes-organismes")

    # « Clés d'API » (an error, a key shown once), « Webhooks » (an error, an endpoint), the API docs.
    audit.visit(url + "/espace-organisme/api/cles/", "cles-api")
    page.get_by_role("button", name="Créer la clé").click()
    audit.check("cles-api-erreurs")
    field(page, "Nom de la clé").fill("CRM")
    tick(page, "Lecture seule")
    page.get_by_role("button", name="Créer la clé").click()
    audit.check("cles-api-creee")
    audit.visit(url + "/espace-organisme/api/webhooks/", "webhooks")
    field(page, "Adresse de réception (URL)").fill("http://crm.example/webhooks")
    page.get_by_role("button", name="Ajouter l'adresse").click()
    audit.check("webhooks-erreurs")
    field(page, "Adresse de réception (URL)").fill("https://crm.example/webhooks")
    tick(page, "Facture payée")
    page.get_by_role("button", name="Ajouter l'adresse").click()
    audit.check("webhook")
    audit.visit(url + "/api/v1/docs/", "api-docs")

    link = re.search(r"(/espace-organisme/invitation/\S+/)", unseal(Email.objects.get(to="nouvelle@cp-formation.example").sealed)[1]).group(1)
    page.context.clear_cookies()
    audit.visit(url + link, "invitation")
    page.get_by_role("button", name="Créer mon compte et accepter l'invitation").click()
    audit.check("invitation-erreurs")
    field(page, "Prénom").fill("Lou")
    field(page, "Nom").fill("Petit")
    field(page, "Mot de passe").fill("Apprendre2026!")
    field(page, "Confirmation du mot de passe").fill("Apprendre2026!")
    page.get_by_role("button", name="Créer mon compte et accepter l'invitation").click()
    page.context.clear_cookies()
    audit.visit(url + link, "invitation-utilisee")

    # A later login: the code page, with an error.
    page.goto(url + "/connexion/")
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill(responsable.email)
    field(page, "Mot de passe").fill("Formation2020")
    page.get_by_role("button", name="Se connecter").click()
    audit.check("double-authentification-code")
    field(page, "Code de vérification").fill("123")
    page.get_by_role("button", name="Valider le code").click()
    audit.check("double-authentification-code-erreur")
    assert audit.assert_clean() >= 21


def test_catalogue_import_pages(live_server, audit_page, cast, tmp_path):
    """« Importer un catalogue » (empty, a refused file), the check's report with rejected rows,
    an import running and an import done, a Lecteur's read-only « Mon catalogue »."""
    from catalogue import offer_import
    from catalogue.models import OfferImport

    page, url = audit_page, live_server.url
    start = timezone.localdate() + datetime.timedelta(days=40)
    header = ";".join(offer_import.COLUMNS)
    rows = [
        ";".join(
            {
                "formation_code": "IMP-1",
                "intitule": "Anglais importé",
                "duree_heures": "20",
                "session_code": f"S{n}",
                "date_debut": f"{start:%d/%m/%Y}",
                "date_fin": f"{start + datetime.timedelta(days=3):%d/%m/%Y}",
                "code_commune": "57463",
                "prix_ttc": "800" if n else "huit cents",
            }.get(c, "")
            for c in offer_import.COLUMNS
        )
        for n in range(3)
    ]
    good, bad = tmp_path / "catalogue.csv", tmp_path / "latin1.csv"
    good.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    bad.write_bytes("\n".join([header, rows[1].replace("Anglais", "Été")]).encode("latin-1"))
    audit = Audit(page, "import", SCREENSHOTS)
    login(page, live_server, cast["staff"].email)
    audit.visit(url + "/espace-organisme/catalogue/import/", "import")
    field(page, "Fichier du catalogue").set_input_files(str(bad))
    page.get_by_role("button", name="Vérifier le fichier").click()
    audit.check("import-fichier-refuse")
    field(page, "Fichier du catalogue").set_input_files(str(good))
    page.get_by_role("button", name="Vérifier le fichier").click()
    audit.check("import-rapport")
    page.get_by_role("button", name="Importer les 2 sessions valides").click()
    audit.check("import-en-file")
    checked = OfferImport.objects.get()
    page.goto("about:blank")  # stops the queued page's polling: its reload would abort the next visit
    OfferImport.objects.filter(pk=checked.pk).update(status="running", done=1, started_at=timezone.now())
    audit.visit(url + f"/espace-organisme/catalogue/import/{checked.public_id}/", "import-en-cours")
    page.goto("about:blank")
    offer_import.run(checked.pk)
    audit.visit(url + f"/espace-organisme/catalogue/import/{checked.public_id}/", "import-termine")
    audit.visit(url + "/espace-organisme/catalogue/?q=import", "catalogue-filtre")
    assert audit.assert_clean() >= 7


def test_franceconnect_pages(live_server, audit_page, franceconnect):
    """The login and signup pages with the FranceConnect button, a FranceConnect failure on the
    login page, and « Associer mon compte » with its errors."""
    page, url = audit_page, live_server.url
    # The provider's own page (not ours, not audited) loads a CDN stylesheet: stay on the machine.
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    claims = {"given_name": "Angela", "family_name": "Dubois", "birthdate": "1990-05-17", "email": "angela@franceconnect.example", "acr": "eidas1"}
    franceconnect.set_user("sub-audit", **claims)
    audit = Audit(page, "franceconnect", SCREENSHOTS)
    audit.visit(url + "/inscription/", "inscription-franceconnect")
    audit.visit(url + "/connexion/", "connexion-franceconnect")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("La connexion avec FranceConnect a échoué")).to_be_visible()
    audit.check("connexion-franceconnect-echec")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.get_by_placeholder("sub").fill("sub-audit")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Associer mon compte", level=1)).to_be_visible()
    audit.check("associer-mon-compte")
    page.get_by_role("button", name="Associer mon compte").click()
    audit.check("associer-mon-compte-erreurs")
    field(page, "Numéro de sécurité sociale").fill(nir_for(datetime.date(1991, 5, 17)))  # born in 1990 for FranceConnect
    tick(page, "J'ai lu et j'accepte les conditions générales d'utilisation")
    page.get_by_role("button", name="Associer mon compte").click()
    expect(page.locator("#id_nir-desc-error")).to_contain_text("L'année de naissance ne correspond pas")
    audit.check("associer-mon-compte-nir-incoherent")
    assert audit.assert_clean() == 6


def test_evaluation_pages(live_server, audit_page, cast):
    """« Évaluations »: the call on « Mes dossiers » and on the dossier, the form (empty, in
    error, already sent, too early), the formation's rating on its card and its page, the
    Espace organisme's page."""
    from evaluations import services as evaluations

    page, url, titulaire, staff, organisme = audit_page, live_server.url, cast["titulaire"], cast["staff"], cast["organisme"]
    ended = f.service_done(titulaire, f.session_for(organisme), staff)
    rated = f.service_done(titulaire, f.session_for(organisme), staff)
    early = f.accepted(titulaire, f.session_for(organisme), staff)
    scores = {"accueil": 5, "contenu": 4, "equipe": 5, "moyens": 3, "accompagnement": 4}
    evaluation = evaluations.evaluation_create(dossier=rated, by=titulaire, scores=scores, comment="Formateur disponible.", training_confirmed=True)
    evaluations.evaluation_moderate(evaluation_id=evaluation.pk, by=OperatorFactory(), publish=True)
    search_terms_refresh()
    audit = Audit(page, "evaluations", SCREENSHOTS)
    login(page, live_server, titulaire.email)
    audit.visit(url + "/mes-dossiers/", "mes-dossiers-a-evaluer")
    audit.visit(url + f"/mes-dossiers/{ended.numero}/", "dossier-a-evaluer")
    audit.visit(url + f"/mes-dossiers/{ended.numero}/evaluation/", "evaluation")
    page.get_by_role("button", name="Envoyer mon évaluation").click()
    audit.check("evaluation-erreurs")
    audit.visit(url + f"/mes-dossiers/{rated.numero}/evaluation/", "evaluation-deja-faite")
    audit.visit(url + f"/mes-dossiers/{rated.numero}/", "dossier-evalue")
    audit.visit(url + f"/mes-dossiers/{early.numero}/evaluation/", "evaluation-trop-tot")
    audit.visit(url + "/formations/recherche/?quoi=anglais&tri=note", "recherche-mieux-notees")
    audit.visit(url + f"/formations/{rated.formation.numero}/", "formation-notee")
    login(page, live_server, staff.email)
    audit.visit(url + "/espace-organisme/evaluations/", "organisme-evaluations")
    audit.visit(url + f"/espace-organisme/evaluations/?formation={rated.formation.numero}", "organisme-evaluations-formation")
    assert audit.assert_clean() == 11
