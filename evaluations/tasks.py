from celery import shared_task

from . import services


@shared_task(name="evaluations.tasks.ask_ended_trainings")
def ask_ended_trainings() -> int:
    """Daily: ask the titulaires whose session ended while « En formation » to evaluate it
    (once each: dedup keys)."""
    return services.ask_ended_trainings()
