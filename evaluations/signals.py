"""The exit declared by the organisme (« Déclarer la sortie / service fait »): the titulaire is
asked to evaluate, in the transition's transaction (``dossiers`` does not know this app)."""

from django.db.models.signals import post_save


def _on_dossier_event(sender, instance, created, **kwargs):
    if created and instance.transition == "declare_service_done":
        from .services import evaluation_ask

        evaluation_ask(instance.dossier, now=instance.created_at)


def connect() -> None:
    from dossiers.models import DossierEvent

    post_save.connect(_on_dossier_event, sender=DossierEvent, dispatch_uid="evaluations_ask_on_exit")
