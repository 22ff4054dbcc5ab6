from django.apps import AppConfig


class EquipesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "equipes"
    verbose_name = "Équipes des organismes"
