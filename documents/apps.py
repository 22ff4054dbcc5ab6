from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """« Mes documents »: the titulaire's PDFs (payment receipts, attestations de droits,
    certificats de réalisation), generated server-side and kept in private storage."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Mes documents"

    def ready(self):
        from . import signals

        signals.connect()
