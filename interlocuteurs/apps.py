from django.apps import AppConfig


class InterlocuteursConfig(AppConfig):
    """« Mes interlocuteurs » (the directory of structures that advise titulaires) and the
    conseillers' space (their titulaires' dossiers, abondements)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "interlocuteurs"
    verbose_name = "Interlocuteurs et conseillers"
