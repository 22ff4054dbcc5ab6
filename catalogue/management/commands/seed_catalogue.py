import time

from django.core.management.base import BaseCommand, CommandError

from catalogue.seed import seed_catalogue


class Command(BaseCommand):
    help = "Génère un catalogue français réaliste (organismes, certifications, formations, sessions) par COPY."

    def add_arguments(self, parser):
        parser.add_argument("--formations", type=int, default=1000, help="nombre de formations à créer (défaut 1000)")
        parser.add_argument("--sessions-per-formation", type=int, default=3)
        parser.add_argument("--remote-share", type=float, default=0.15, help="part des formations à distance (0 à 1)")
        parser.add_argument("--seed", type=int, default=2020, help="graine du générateur (reproductible)")

    def handle(self, *args, formations, sessions_per_formation, remote_share, seed, **options):
        if formations < 1 or sessions_per_formation < 1 or not 0 <= remote_share <= 1:
            raise CommandError("--formations et --sessions-per-formation ≥ 1, --remote-share entre 0 et 1.")
        start = time.monotonic()
        try:
            report = seed_catalogue(formations=formations, sessions_per_formation=sessions_per_formation, remote_share=remote_share, seed=seed)
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.formations} formations, {report.sessions} sessions, {report.organismes} organismes, "
                f"{report.certifications} certifications, {report.search_terms} mots de vocabulaire, {report.rankings} classements précalculés "
                f"en {time.monotonic() - start:.1f} s."
            )
        )
