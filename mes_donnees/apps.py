from django.apps import AppConfig


class MesDonneesConfig(AppConfig):
    """« Mes données »: everything the portal holds about a titulaire (JSON export) and the
    deletion of the account (personal data erased, amounts kept)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mes_donnees"
    verbose_name = "Mes données"
