from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    """« Évaluations »: after the training, the titulaire rates it (five criteria, an optional
    comment moderated by the operators); the formations show their rating."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = "Évaluations des formations"

    def ready(self):
        from . import signals

        signals.connect()
