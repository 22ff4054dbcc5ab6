from celery import shared_task

from . import offer_import, services


@shared_task(name="catalogue.tasks.refresh_search_index")
def refresh_search_index() -> dict:
    """Each night: sessions that ended yesterday no longer count in the formations' summaries,
    and the typo-correction vocabulary follows the catalogue."""
    return {"summaries": services.sessions_summary_refresh(), "terms": services.search_terms_refresh()}


@shared_task(name="catalogue.tasks.run_offer_import")
def run_offer_import(import_id: int) -> dict:
    """An organisme's catalogue file, once confirmed: written chunk by chunk, its progress on the page."""
    done = offer_import.run(import_id)
    return {"status": done.status, "created": done.created, "updated": done.updated, "unchanged": done.unchanged}


@shared_task(name="catalogue.tasks.requeue_stuck_imports")
def requeue_stuck_imports() -> int:
    return offer_import.requeue_stuck()
