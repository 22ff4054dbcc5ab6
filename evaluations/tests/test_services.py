import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import TitulaireFactory
from catalogue.models import FormationIndex
from cpf_portal.testing import text
from dossiers.tests import factories as f
from dossiers.workflow import Status
from evaluations import services
from evaluations.models import Evaluation, Moderation
from evaluations.tests.factories import evaluate, finished, scores
from notifications.models import Email, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db, password):
    return [TitulaireFactory(password=password) for _ in range(3)]


def finished_for(people, session, organisme_user):
    dossiers = []
    for person in people:
        f.give_rights(person, 200_000)
        dossiers.append(finished(person, session, organisme_user))
    return dossiers


def test_the_rating_is_the_mean_of_every_star_and_counts_the_evaluations(people, session, organisme_user):
    first, second, third = finished_for(people, session, organisme_user)
    evaluate(first, 5)
    formation = session.formation
    formation.refresh_from_db()
    assert (formation.rating_average, formation.rating_count, formation.rating_label) == (Decimal("5.00"), 1, "5,0 / 5")
    evaluate(second, 4, 4, 3, 5, 4)  # 20 stars
    evaluate(third, 1, 2, 3, 3, 3)  # 12 stars
    formation.refresh_from_db()
    # (25 + 20 + 12) / 15 = 3.8
    assert (formation.rating_average, formation.rating_count) == (Decimal("3.80"), 3)
    # The search index carries the same numbers (trigger).
    index = FormationIndex.objects.get(formation=formation)
    assert (index.rating_average, index.rating_count) == (Decimal("3.80"), 3)


def test_averages_round_half_up_to_two_decimals_and_one_on_screen(people, session, organisme_user):
    first, second, third = finished_for(people, session, organisme_user)
    evaluate(first, 5)
    evaluate(second, 4)
    evaluate(third, 4, 4, 4, 4, 5)  # 25 + 20 + 21 = 66 stars / 15 = 4.4
    formation = session.formation
    formation.refresh_from_db()
    assert formation.rating_average == Decimal("4.40")
    assert services._average(67, 3) == Decimal("4.47")  # 4.4666…
    assert services._average(5 * 7 + 1, 2) == Decimal("3.60")
    assert services._average(1, 8) is not None and services._average(0, 0) is None
    formation.rating_average = Decimal("4.25")
    assert formation.rating_label == "4,3 / 5"  # half up, not to even


def test_per_criterion_averages(people, session, organisme_user):
    from evaluations.selectors import formation_criteria

    first, second, _ = finished_for(people, session, organisme_user)
    evaluate(first, 5, 4, 3, 2, 1)
    evaluate(second, 4, 4, 4, 4, 4)
    assert [(label, shown) for label, shown, _ in formation_criteria(session.formation)] == [
        ("Accueil", "4,5"),
        ("Contenu", "4,0"),
        ("Équipe pédagogique", "3,5"),
        ("Moyens", "3,0"),
        ("Accompagnement", "2,5"),
    ]


def test_a_dossier_is_evaluated_once(make_dossier):
    dossier = make_dossier(Status.SERVICE_DONE)
    evaluate(dossier, 4)
    with pytest.raises(services.AlreadyEvaluated, match="déjà évalué"):
        evaluate(dossier, 5)
    assert Evaluation.objects.count() == 1
    dossier.formation.refresh_from_db()
    assert dossier.formation.rating_average == Decimal("4.00")


def test_the_database_refuses_stars_out_of_range_and_unconfirmed_trainings(make_dossier):
    dossier = make_dossier(Status.DEBITED)
    base = {"dossier": dossier, "formation": dossier.formation, "organisme": dossier.organisme, "training_confirmed": True, **scores(3)}
    for bad in ({"accueil": 0}, {"moyens": 6}, {"training_confirmed": False}, {"comment": "Bien", "moderation": Moderation.NONE}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Evaluation.objects.create(**{**base, **bad})


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_REFUSED, Status.CANCELLED_NOT_REALIZED])
def test_only_an_ended_training_is_evaluated(make_dossier, status):
    dossier = make_dossier(status)
    with pytest.raises(services.EvaluationError):
        evaluate(dossier, 4)
    assert not Evaluation.objects.exists()


def test_a_training_whose_last_day_passed_is_evaluated_while_in_training(make_dossier):
    dossier = make_dossier(Status.IN_TRAINING)
    after_end = timezone.make_aware(datetime.datetime.combine(dossier.effective_end_date + datetime.timedelta(days=1), datetime.time(9)))
    assert services.training_ended(dossier, dossier.effective_end_date) is False
    evaluation = services.evaluation_create(dossier=dossier, by=dossier.titulaire, scores=scores(3), training_confirmed=True, now=after_end)
    assert evaluation.overall == 3


def test_only_the_titulaire_evaluates_and_he_confirms_the_training(make_dossier, other_titulaire):
    dossier = make_dossier(Status.SERVICE_DONE)
    with pytest.raises(services.EvaluationError, match="titulaire"):
        services.evaluation_create(dossier=dossier, by=other_titulaire, scores=scores(5), training_confirmed=True)
    with pytest.raises(services.EvaluationError, match="Confirmez"):
        services.evaluation_create(dossier=dossier, by=dossier.titulaire, scores=scores(5), training_confirmed=False)
    with pytest.raises(services.EvaluationError, match="1 à 5"):
        services.evaluation_create(dossier=dossier, by=dossier.titulaire, scores={**scores(5), "accueil": 6}, training_confirmed=True)
    assert not Evaluation.objects.exists()


def test_a_comment_waits_for_moderation_which_never_changes_the_stars(make_dossier, operator):
    dossier = make_dossier(Status.SERVICE_DONE)
    evaluation = evaluate(dossier, 2, comment="  Formateur souvent absent.  ")
    assert (evaluation.comment, evaluation.moderation) == ("Formateur souvent absent.", Moderation.PENDING)
    assert not Evaluation.objects.published().exists()
    services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=True)
    evaluation.refresh_from_db()
    assert evaluation.moderation == Moderation.PUBLISHED and evaluation.moderated_by == operator
    with pytest.raises(services.EvaluationError, match="motif"):
        services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=False)
    services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=False, reason="Propos mettant en cause une personne")
    evaluation.refresh_from_db()
    assert evaluation.moderation == Moderation.REFUSED and evaluation.accueil == 2
    dossier.formation.refresh_from_db()
    assert (dossier.formation.rating_average, dossier.formation.rating_count) == (Decimal("2.00"), 1)


def test_moderation_is_for_operators(make_dossier, organisme_user):
    evaluation = evaluate(make_dossier(Status.SERVICE_DONE), 4, comment="Très bien")
    with pytest.raises(services.EvaluationError, match="opérateurs"):
        services.evaluation_moderate(evaluation_id=evaluation.pk, by=organisme_user, publish=True)


def test_no_comment_nothing_to_moderate(make_dossier, operator):
    evaluation = evaluate(make_dossier(Status.SERVICE_DONE), 4)
    assert evaluation.moderation == Moderation.NONE
    with pytest.raises(services.EvaluationError, match="pas de commentaire"):
        services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=True)


def test_the_exit_declaration_asks_the_titulaire_once(make_dossier, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        dossier = make_dossier(Status.SERVICE_DONE)
    notice = Notification.objects.get(user=dossier.titulaire, dedup_key=f"evaluation:ask:{dossier.pk}")
    assert notice.title == f"Évaluez votre formation — dossier n° {dossier.numero}"
    assert notice.url == f"/mes-dossiers/{dossier.numero}/evaluation/"
    email = Email.objects.get(dedup_key=f"evaluation:ask:{dossier.pk}:email")
    assert email.to == dossier.titulaire.email and "Évaluer ma formation" in email.body_text
    assert services.evaluation_ask(dossier) is False  # asked once
    assert Email.objects.filter(dedup_key__startswith="evaluation:ask:").count() == 1
    # The in-app notice has its own words: no address typed out (the notice is the link),
    # dated when the exit was declared.
    assert "http" not in notice.body and "Évaluer ma formation :" not in notice.body and "est terminée" in notice.body
    exit_event = dossier.events.get(transition="declare_service_done")
    assert notice.created_at == exit_event.created_at


def test_mes_notifications_shows_the_evaluation_call_without_an_address(client, make_dossier):
    dossier = make_dossier(Status.SERVICE_DONE)
    client.force_login(dossier.titulaire)
    page = client.get(reverse("notifications:list"))
    shown = text(page)
    assert f"Évaluez votre formation — dossier n° {dossier.numero}" in shown
    assert "http://" not in shown and "Évaluer ma formation :" not in shown
    assert f'href="/mes-dossiers/{dossier.numero}/evaluation/"' in page.content.decode()


def test_the_daily_job_asks_when_the_session_ended_in_training(make_dossier):
    dossier = make_dossier(Status.IN_TRAINING)
    assert services.ask_ended_trainings(today=dossier.effective_end_date) == 0
    day_after = dossier.effective_end_date + datetime.timedelta(days=1)
    assert services.ask_ended_trainings(today=day_after) == 1
    assert services.ask_ended_trainings(today=day_after) == 0  # once
    assert Notification.objects.filter(user=dossier.titulaire, dedup_key=f"evaluation:ask:{dossier.pk}").exists()


def test_erasure_drops_the_comment_and_keeps_the_stars_in_the_rating(make_dossier):
    from mes_donnees.services import delete_account, export_data

    dossier = make_dossier(Status.DEBITED)
    titulaire = dossier.titulaire
    evaluate(dossier, 4, 4, 4, 4, 3, comment="Mon formateur M. Dupont était top")
    exported = export_data(titulaire)["evaluations"]
    assert exported[0]["dossier__numero"] == dossier.numero and exported[0]["comment"] == "Mon formateur M. Dupont était top"
    assert exported[0]["accueil"] == 4 and exported[0]["accompagnement"] == 3
    delete_account(titulaire)
    evaluation = Evaluation.objects.get()
    assert (evaluation.comment, evaluation.moderation) == ("", Moderation.NONE)
    assert evaluation.overall_label == "3,8 / 5"
    dossier.formation.refresh_from_db()
    assert (dossier.formation.rating_average, dossier.formation.rating_count) == (Decimal("3.80"), 1)


def test_the_periodic_task_asks_through_the_service(make_dossier):
    from evaluations.tasks import ask_ended_trainings

    make_dossier(Status.SERVICE_DONE)  # asked by the exit declaration, not by the job
    assert ask_ended_trainings() == 0
