from celery import shared_task

from . import services


@shared_task(name="documents.tasks.documents_for_dossiers", ignore_result=True)
def documents_for_dossiers(dossier_ids: list[int]) -> int:
    """Render the receipts and certificates these dossiers now have (idempotent; a download
    renders a missing one too, so a lost task loses nothing)."""
    return services.documents_for_dossiers(dossier_ids)
