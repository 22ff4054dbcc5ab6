from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cpf_portal.templatetags import euros
from financing.yearly import import_yearly


class Command(BaseCommand):
    help = "Crédite les comptes à partir des déclarations annuelles (CSV « nir;annee;statut;heures_travaillees »). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Lecture impossible de {path} : {error}") from None
        report = import_yearly(text, current_year=timezone.localdate().year)
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.credited} compte(s) crédité(s) pour {euros(report.credited_cents)}, "
                f"{report.already} déjà crédité(s), {len(report.rejected)} ligne(s) rejetée(s)."
            )
        )
        for line, reason in report.rejected:
            self.stdout.write(f"  ligne {line} : {reason}")
