from django.core.management.base import BaseCommand

from dossiers.workflow import mermaid


class Command(BaseCommand):
    help = "Affiche les états et transitions des dossiers (diagramme Mermaid)."

    def handle(self, *args, **options):
        self.stdout.write(mermaid())
