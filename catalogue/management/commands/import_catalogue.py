import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalogue.importer import import_catalogue
from catalogue.services import search_terms_refresh


class Command(BaseCommand):
    help = (
        "Importe un CSV au format du catalogue open data des formations CPF (séparateur « ; »). "
        "Chaque ligne est validée seule ; les lignes rejetées sont listées avec leurs motifs."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="fichier CSV (UTF-8)")
        parser.add_argument("--report", help="écrire les lignes rejetées dans ce fichier CSV")

    def handle(self, *args, path, report=None, **options):
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Lecture impossible de {path} : {error}") from None
        result = import_catalogue(text)
        if result.imported:
            search_terms_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.imported} ligne(s) importée(s) ({result.created} formation(s) créée(s), "
                f"{result.updated} mise(s) à jour), {len(result.rejected)} ligne(s) rejetée(s)."
            )
        )
        for rejected in result.rejected:
            self.stdout.write(f"  ligne {rejected.line} {rejected.numero} : {' ; '.join(rejected.reasons)}")
        if report:
            with open(report, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, delimiter=";")
                writer.writerow(["ligne", "numero_formation", "motifs"])
                for rejected in result.rejected:
                    writer.writerow([rejected.line, rejected.numero, " ; ".join(rejected.reasons)])
        if result.rejected and not result.imported:
            raise CommandError("Aucune ligne n'a pu être importée.")
