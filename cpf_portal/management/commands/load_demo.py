"""Demo data for `make run`: an organisme (the seed's CP-FORMATION), demo accounts for each
role, CP-FORMATION's dossiers in every step with their invoices and a payment batch to run
(``cpf_portal.demo_dossiers``). Idempotent: a second run finds what exists and changes nothing."""

import datetime

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, Structure, User
from accounts.two_factor import APP_NAME, confirmed_app, needs_second_factor, secret_of
from api.models import ApiKey, Scope, digest
from catalogue.models import Formation, Organisme
from catalogue.seed import ensure_demo_action_types, ensure_demo_actions, ensure_seed_example, seed_catalogue
from cpf_portal import demo_dossiers
from equipes.models import Membership, TeamRole
from equipes.services import member_add
from financing import dsn
from financing import services as money
from interlocuteurs import demo as cofinancing_demo
from interlocuteurs.services import seed_structures

DEMO_PASSWORD = "Formation2020"
CP_FORMATION = {
    "siret": "90000001900019",
    "raison_sociale": "CP-FORMATION",
    "nda": "44570000057",
    "address": "18 Rue des Feivres",
    "postal_code": "57070",
    "city": "Metz",
    "phone": "0387000000",
    "email": "contact@cp-formation.example",
}

# CP-FORMATION's team: one person per role (the first manages the team and does everything).
TEAM = [
    ("organisme@cpf-demo.example", [TeamRole.RESPONSABLE, TeamRole.GESTIONNAIRE], "Dominique", "Leroy"),
    ("catalogue@cpf-demo.example", [TeamRole.CATALOGUE], "Yanis", "Moreau"),
    ("administratif@cpf-demo.example", [TeamRole.ADMINISTRATIF], "Inès", "Garnier"),
    ("financier@cpf-demo.example", [TeamRole.FINANCIER], "Hugo", "Lambert"),
    ("lecteur@cpf-demo.example", [TeamRole.LECTEUR], "Léa", "Fontaine"),
]
TEAM_ROLES = {email: roles for email, roles, _first, _last in TEAM}


# CP-FORMATION's API key, the same at every `make run` (a real key is shown once, at random).
DEMO_API_KEY = "cpf_demo0001_CleDeDemonstrationCpFormation2026"


def demo_api_key(organisme, by) -> str:
    if not ApiKey.objects.filter(prefix="demo0001").exists():
        ApiKey.objects.create(
            organisme=organisme,
            name="Démonstration (CRM)",
            prefix="demo0001",
            key_digest=digest(DEMO_API_KEY),
            scopes=list(Scope.values),
            created_by=by,
        )
    return DEMO_API_KEY


def demo_totp(user) -> str:
    """Staff and operators log in with a second factor, the titulaire confirms his purchases
    with one: their app is enrolled already, and its key printed so that a person can add it
    to an authenticator app."""
    if not needs_second_factor(user) and user.role != Role.TITULAIRE:
        return ""
    device = confirmed_app(user) or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=True)
    return f"TOTP {secret_of(device)}"


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes de démonstration."

    def add_arguments(self, parser):
        parser.add_argument("--formations", type=int, default=3000, help="taille du catalogue généré au premier chargement")

    def handle(self, *args, formations=3000, **options):
        call_command("load_communes", if_empty=True, stdout=self.stdout)
        # The demo's people have their career written here; a person who signs up gets the
        # simulated DSN (CPF_SIMULATED_DSN), as « Léo Martin » does below.
        with dsn.scripted():
            self.load(formations)

    @transaction.atomic
    def load(self, formations):
        organisme, _ = Organisme.objects.get_or_create(siret=CP_FORMATION["siret"], defaults=CP_FORMATION)
        seed_structures()
        france_travail_metz = Structure.objects.filter(type=Structure.Type.FRANCE_TRAVAIL, name="France Travail Metz").first()
        example = ensure_seed_example(organisme, today=timezone.localdate())
        every_way = ensure_demo_actions(organisme, today=timezone.localdate())
        ensure_demo_action_types(organisme, today=timezone.localdate())
        # The generated catalogue: once, when no other organisme teaches yet (CP-FORMATION's
        # own formations are made above and by the demo dossiers).
        if not Formation.objects.exclude(organisme=organisme).exists():
            report = seed_catalogue(formations=formations)
            self.stdout.write(f"Catalogue de démonstration : {report.formations} formations, {report.sessions} sessions.")
        accounts = [
            (
                "titulaire@cpf-demo.example",
                {
                    "role": Role.TITULAIRE,
                    "nir": "295109912611193",
                    "first_name": "Camille",
                    "last_name": "Durand",
                    "birth_date": datetime.date(1995, 10, 3),
                    "phone_mobile": "0612345678",
                    "street_number": "12",
                    "street_type": "RUE",
                    "street_name": "Serpenoise",
                    "postal_code": "57000",
                    "city": "Metz",
                    "diploma": "niv4",
                    "diploma_year": 2013,
                    "socio_professional_category": "5",
                    "employment_status": "salarie",
                    "interlocuteur": france_travail_metz,
                },
            ),
            (
                "leo.martin@cpf-demo.example",
                {
                    "role": Role.TITULAIRE,
                    "nir": "188075746310009",
                    "first_name": "Léo",
                    "last_name": "Martin",
                    "birth_date": datetime.date(1988, 7, 21),
                    "employment_status": "salarie",
                },
            ),
            ("organisme@cpf-demo.example", {"role": Role.ORGANISME, "organisme": organisme, "first_name": "Dominique", "last_name": "Leroy"}),
            *(
                (email, {"role": Role.ORGANISME, "organisme": organisme, "first_name": first_name, "last_name": last_name})
                for email, _roles, first_name, last_name in TEAM[1:]
            ),
            (
                "conseiller@cpf-demo.example",
                {"role": Role.CONSEILLER, "structure": france_travail_metz, "first_name": "Sacha", "last_name": "Bernard"},
            ),
            ("admin@cpf-demo.example", {"role": Role.OPERATEUR, "is_staff": True, "is_superuser": True, "first_name": "Alex", "last_name": "Admin"}),
        ]
        rows = []
        for email, fields in accounts:
            if fields.get("role") == Role.CONSEILLER and france_travail_metz is None:
                continue  # no commune loaded, hence no directory
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User(email=email, activated_at=timezone.now(), cgu_accepted_at=timezone.now(), **fields)
                user.set_password(DEMO_PASSWORD)
                user.save()
            if email == "leo.martin@cpf-demo.example":
                # His rights come from the simulated DSN, as a new account's (idempotent).
                dsn.load_simulated(money.account_for(user))
            elif user.role == Role.TITULAIRE:
                # Two years of work as a salarié: 1 000 € of rights (idempotent per year).
                dsn.credit_full_years(money.account_for(user), (2024, 2025))
            label = user.get_role_display()
            if email == "leo.martin@cpf-demo.example":
                label = f"{label} — droits de la DSN simulée"
            if user.role == Role.ORGANISME:
                roles = TEAM_ROLES[email]
                membership = Membership.objects.filter(user=user, organisme=organisme).first()
                membership = membership or member_add(user=user, organisme=organisme, roles=roles)
                label = f"Organisme — {membership.roles_label}"
            rows.append((label, email, f"NIR {user.nir_display} · {demo_totp(user)}" if user.nir else demo_totp(user)))
        staff = User.objects.get(email="organisme@cpf-demo.example")
        self.stdout.write(f"Dossiers et facturation de CP-FORMATION : {demo_dossiers.load(organisme, staff, DEMO_PASSWORD)}")
        conseiller = User.objects.filter(email="conseiller@cpf-demo.example").first()
        if conseiller is not None:
            self.stdout.write(f"Demandes de financement complémentaire au conseiller : {cofinancing_demo.load(conseiller)}")
        self.stdout.write(f"Clé d'API de CP-FORMATION (tous périmètres, /api/v1/docs/) : {demo_api_key(organisme, staff)}")
        self.stdout.write(f"Formation de l'exemple : « {example.intitule} » (/formations/{example.numero}/)")
        self.stdout.write(f"Une action par modalité et par rythme : « {every_way.intitule} » (/formations/{every_way.numero}/)")
        self.stdout.write(self.style.SUCCESS(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD})"))
        self.stdout.write(
            "  Ajoutez la clé TOTP dans une application d'authentification : organismes et administration la donnent après le mot de passe,"
            " le titulaire pour confirmer un achat (accepter une proposition)."
        )
        for role, email, detail in rows:
            self.stdout.write(f"  {role:<62} {email:<36} {detail}")
