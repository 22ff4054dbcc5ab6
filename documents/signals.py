"""Documents rendered on the event, after the commit: the receipt once a dossier is accepted
(its card payment made), the certificate once its service fait is validated (one dossier by
an operator, or many by the deadline job). Connected in ``apps.ready`` (dossiers knows nothing
of documents)."""

from django.db.models.signals import post_save

from cpf_portal.queue import enqueue_on_commit
from dossiers.models import DossierEvent
from dossiers.services import recorded_in_bulk
from dossiers.states import Status

from .tasks import documents_for_dossiers

EVENTS = {Status.ACCEPTED, Status.DEBITED}


def _on_dossier_event(sender, instance, created, **kwargs):
    if created and instance.to_status in EVENTS:
        enqueue_on_commit(documents_for_dossiers, [instance.dossier_id])


def _on_recorded_in_bulk(sender, transition, dossier_ids, **kwargs):
    if transition == "validate_service" and dossier_ids:
        enqueue_on_commit(documents_for_dossiers, list(dossier_ids))


def connect() -> None:
    post_save.connect(_on_dossier_event, sender=DossierEvent, dispatch_uid="documents_dossier_event")
    recorded_in_bulk.connect(_on_recorded_in_bulk, dispatch_uid="documents_recorded_in_bulk")
