from celery import shared_task

from . import services


@shared_task(name="catalogue.tasks.refresh_search_index")
def refresh_search_index() -> dict:
    """Each night: sessions that ended yesterday no longer count in the formations' summaries,
    and the typo-correction vocabulary follows the catalogue."""
    return {"summaries": services.sessions_summary_refresh(), "terms": services.search_terms_refresh()}
