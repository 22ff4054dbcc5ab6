from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API et webhooks"

    def ready(self):
        from . import webhooks

        webhooks.connect()
