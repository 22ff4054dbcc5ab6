from django.apps import AppConfig


class SecuriteConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "securite"
    verbose_name = "Sécurité des comptes"

    def ready(self):
        from . import signals  # noqa: F401
