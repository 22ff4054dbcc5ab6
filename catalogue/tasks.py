from celery import shared_task

from . import offer_import, services


@shared_task(name="catalogue.tasks.refresh_search_index")
def refresh_search_index() -> dict:
    """Each night: sessions that ended yesterday no longer count in the formations' summaries,
    the typo-correction vocabulary follows the catalogue, and the frequent words' rankings are
    recomputed."""
    return {
        "summaries": services.sessions_summary_refresh(),
        "terms": services.search_terms_refresh(),
        "rankings": services.rankings_refresh(),
    }


@shared_task(name="catalogue.tasks.refresh_rankings")
def refresh_rankings(stale_only: bool = True) -> int:
    """Every quarter of an hour: the frequent words' rankings that too many changes (or a
    closing formation) put out of use are recomputed; all of them when an operator asks."""
    return services.rankings_refresh(stale_only=stale_only)


@shared_task(name="catalogue.tasks.run_offer_import")
def run_offer_import(import_id: int) -> dict:
    """An organisme's catalogue file, once confirmed: written chunk by chunk, its progress on the page."""
    done = offer_import.run(import_id)
    return {"status": done.status, "created": done.created, "updated": done.updated, "unchanged": done.unchanged}


@shared_task(name="catalogue.tasks.requeue_stuck_imports")
def requeue_stuck_imports() -> int:
    return offer_import.requeue_stuck()
