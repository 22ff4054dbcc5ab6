from django.core.management.base import BaseCommand

from interlocuteurs.services import seed_structures


class Command(BaseCommand):
    help = "Crée l'annuaire de démonstration des structures d'accompagnement (CEP, France Travail, missions locales, Cap Emploi, APEC). Idempotent."

    def handle(self, *args, **options):
        self.stdout.write(self.style.SUCCESS(f"{seed_structures()} structure(s) créée(s)."))
