from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.tests.factories import OrganismeStaffFactory, TitulaireFactory
from catalogue import services as catalogue_services
from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from cpf_portal.testing import text
from dossiers.tests import factories as f
from dossiers.workflow import Status
from equipes.models import TeamRole
from evaluations import services
from evaluations.models import Evaluation, Moderation
from evaluations.tests.factories import evaluate, finished

pytestmark = pytest.mark.django_db

STARS = {"accueil": "5", "contenu": "4", "equipe": "5", "moyens": "3", "accompagnement": "4"}


def url(dossier):
    return reverse("evaluations:evaluate", args=[dossier.numero])


@pytest.fixture
def ended(make_dossier):
    return make_dossier(Status.SERVICE_DONE)


def test_the_titulaire_evaluates_his_ended_training(client, ended):
    client.force_login(ended.titulaire)
    page = client.get(url(ended))
    assert page.status_code == 200
    body = text(page)
    assert "<legend" in body and "Équipe pédagogique" in body and 'type="radio"' in body
    response = client.post(url(ended), {**STARS, "training_confirmed": "on", "comment": "Très bonne formation, formateur disponible."})
    assert response.status_code == 302 and response["Location"] == reverse("dossiers:detail", args=[ended.numero])
    evaluation = Evaluation.objects.get(dossier=ended)
    assert (evaluation.accueil, evaluation.moyens, evaluation.moderation) == (5, 3, Moderation.PENDING)
    ended.formation.refresh_from_db()
    assert (ended.formation.rating_average, ended.formation.rating_count) == (Decimal("4.20"), 1)
    detail = text(client.get(reverse("dossiers:detail", args=[ended.numero])))
    assert "Merci, votre évaluation est enregistrée." in detail and "Votre évaluation" in detail


def test_bad_input_is_told_next_to_each_field_and_nothing_is_saved(client, ended):
    client.force_login(ended.titulaire)
    response = client.post(url(ended), {"accueil": "5", "contenu": "9", "comment": "x" * 2001})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["contenu"] == ["Choisissez de 1 à 5 étoiles pour ce critère."]
    assert errors["equipe"] == ["Choisissez de 1 à 5 étoiles pour ce critère."]
    assert errors["training_confirmed"] == ["Cochez cette case pour confirmer que vous avez suivi cette formation."]
    assert "dépasse 2000 caractères" in errors["comment"][0]
    assert "Erreur – Évaluer ma formation" in text(response)
    assert not Evaluation.objects.exists()


def test_a_second_evaluation_is_refused_with_a_message(client, ended):
    evaluate(ended, 4)
    client.force_login(ended.titulaire)
    page = client.get(url(ended))
    assert page.status_code == 200 and "Vous avez déjà évalué cette formation" in text(page)
    assert "Envoyer mon évaluation" not in text(page)
    response = client.post(url(ended), {**STARS, "training_confirmed": "on"})
    assert response.status_code == 409 and "déjà évalué" in text(response)
    assert Evaluation.objects.count() == 1


def test_not_before_the_end(client, make_dossier):
    dossier = make_dossier(Status.ACCEPTED)
    client.force_login(dossier.titulaire)
    page = client.get(url(dossier))
    assert page.status_code == 200 and "une fois terminée" in text(page) and "Envoyer mon évaluation" not in text(page)
    assert "Évaluer ma formation" not in text(client.get(reverse("dossiers:detail", args=[dossier.numero])))
    response = client.post(url(dossier), {**STARS, "training_confirmed": "on"})
    assert response.status_code == 400 and not Evaluation.objects.exists()


def test_isolation(client, new_client, ended, other_titulaire, organisme_user):
    anonymous = new_client().get(url(ended))
    assert anonymous.status_code == 302 and "connexion" in anonymous["Location"]
    client.force_login(other_titulaire)
    assert client.get(url(ended)).status_code == 404
    assert client.post(url(ended), {**STARS, "training_confirmed": "on"}).status_code == 404
    client.force_login(organisme_user)
    assert client.get(url(ended)).status_code == 403
    assert not Evaluation.objects.exists()


def test_the_dossier_page_and_mes_dossiers_call_to_evaluate(client, ended, django_assert_max_num_queries):
    client.force_login(ended.titulaire)
    detail = text(client.get(reverse("dossiers:detail", args=[ended.numero])))
    assert "Votre formation est terminée : évaluez-la" in detail and f'href="{url(ended)}"' in detail
    listing = text(client.get(reverse("dossiers:list")))
    assert f"Évaluer « {ended.formation.intitule} »" in listing
    evaluate(ended, 5)
    assert "à évaluer" not in text(client.get(reverse("dossiers:list")))


def test_the_formation_shows_its_rating_per_criterion_and_published_comments_without_identity(client, ended, operator):
    evaluation = evaluate(ended, 5, 4, 3, 2, 1, comment="Contenu dense mais utile.")
    formation = ended.formation
    page = text(client.get(reverse("catalogue:detail", args=[formation.numero])))
    assert "3,0 / 5 (1 évaluation)" in page and "Équipe pédagogique" in page and "<td>4,0 / 5</td>" in page
    assert "Contenu dense mais utile." not in page  # not moderated yet
    services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=True)
    page = text(client.get(reverse("catalogue:detail", args=[formation.numero])))
    assert "Contenu dense mais utile." in page
    assert ended.titulaire.last_name not in page and ended.numero not in page


def test_the_search_card_shows_the_rating(client, ended):
    evaluate(ended, 4)
    catalogue_services.search_terms_refresh()
    page = text(client.get(reverse("catalogue:search"), {"quoi": "anglais"}))
    assert "4,0 / 5 (1 évaluation)" in page


def _rated(title, stars_per_person, session_of, organisme_user):
    """A formation in Metz evaluated by one titulaire per entry of ``stars_per_person``."""
    formation = FormationFactory(organisme=organisme_user.organisme, intitule=title)
    session = SessionFactory(formation=formation, commune=commune("metz"), price_cents=50_000, start_date=f.start_in_working_days(20))
    for stars in stars_per_person:
        person = TitulaireFactory()
        f.give_rights(person, 100_000)
        evaluate(finished(person, session, organisme_user), stars)
    return formation


@pytest.mark.parametrize("place", [{}, {"ou": "Metz"}])
def test_search_sorts_and_filters_by_rating_in_a_fixed_number_of_queries(client, organisme_user, place, django_assert_max_num_queries):
    _rated("Plomberie moyenne", [3], None, organisme_user)
    _rated("Plomberie excellente", [5, 4], None, organisme_user)
    _rated("Plomberie sans avis", [], None, organisme_user)
    catalogue_services.search_terms_refresh()
    search = reverse("catalogue:search")
    response = client.get(search, {"quoi": "plomberie", "tri": "note", **place})
    assert [hit.formation.intitule for hit in response.context["result"].hits] == [
        "Plomberie excellente",
        "Plomberie moyenne",
        "Plomberie sans avis",
    ]
    response = client.get(search, {"quoi": "plomberie", "note_min": "4", **place})
    assert [hit.formation.intitule for hit in response.context["result"].hits] == ["Plomberie excellente"]
    assert [
        h.formation.intitule for h in client.get(search, {"quoi": "plomberie", "note_min": "3", "tri": "note", **place}).context["result"].hits
    ] == [
        "Plomberie excellente",
        "Plomberie moyenne",
    ]
    # Place only (no keywords): the rating sorts too.
    if place:
        hits = client.get(search, {"tri": "note", **place}).context["result"].hits
        assert [hit.formation.intitule for hit in hits][:2] == ["Plomberie excellente", "Plomberie moyenne"]
    cache.clear()  # the search above is remembered: measure a computed one
    with django_assert_max_num_queries(8) as few:
        client.get(search, {"quoi": "plomberie", "tri": "note", "note_min": "3", "page": "1", **place})
    for index in range(6):
        _rated(f"Plomberie {index}", [4], None, organisme_user)
    catalogue_services.search_terms_refresh()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(search, {"quoi": "plomberie", "tri": "note", "note_min": "3", "page": "1", **place})
    assert len(response.context["result"].hits) == 8


def test_a_bad_minimum_rating_is_told_next_to_the_field(client, db):
    response = client.get(reverse("catalogue:search"), {"quoi": "anglais", "note_min": "7"})
    assert response.status_code == 400 and response.context["form"].errors["note_min"]


ORGANISME_URL = reverse("evaluations:organisme")


def test_the_organisme_sees_its_ratings_and_published_comments_without_identities(client, ended, organisme_user, operator):
    published = evaluate(ended, 5, 4, 3, 2, 1, comment="Salle trop petite mais formateur excellent.")
    services.evaluation_moderate(evaluation_id=published.pk, by=operator, publish=True)
    person = TitulaireFactory(last_name="Zorglub")
    f.give_rights(person, 200_000)
    evaluate(finished(person, ended.session, organisme_user), 4, comment="En attente de relecture")
    client.force_login(organisme_user)
    page = text(client.get(ORGANISME_URL))
    assert "2 évaluations" in page and "1 commentaire en attente de relecture" in page
    assert "Salle trop petite mais formateur excellent." in page and "En attente de relecture" not in page
    assert ended.formation.intitule in page and "<td>4,5</td>" in page  # accueil: (5 + 4) / 2
    for identity in (ended.numero, ended.titulaire.last_name, ended.titulaire.email, "Zorglub"):
        assert identity not in page
    home = text(client.get(reverse("dossiers:organisme-home")))
    assert "2 évaluations de vos formations" in home


def test_the_organisme_page_is_scoped_to_its_organisme(client, ended, other_organisme_user, organisme_user):
    evaluate(ended, 4)
    client.force_login(other_organisme_user)
    page = text(client.get(ORGANISME_URL))
    assert ended.formation.intitule not in page and "Aucune de vos formations" in page
    assert client.get(ORGANISME_URL, {"formation": ended.formation.numero}).status_code == 404
    client.force_login(organisme_user)
    assert client.get(ORGANISME_URL, {"formation": ended.formation.numero}).status_code == 200


def test_the_organisme_page_needs_the_catalogue_right(client, ended, new_client, titulaire):
    billing_only = OrganismeStaffFactory(organisme=ended.organisme, roles=[TeamRole.RESPONSABLE])
    client.force_login(billing_only)
    assert client.get(ORGANISME_URL).status_code == 403
    client.force_login(titulaire)
    assert client.get(ORGANISME_URL).status_code == 403
    assert new_client().get(ORGANISME_URL).status_code == 302


def test_the_organisme_page_runs_a_fixed_number_of_queries(client, ended, organisme_user, operator, django_assert_max_num_queries):
    services.evaluation_moderate(evaluation_id=evaluate(ended, 4, comment="Bien").pk, by=operator, publish=True)
    client.force_login(organisme_user)
    with django_assert_max_num_queries(12) as few:
        assert client.get(ORGANISME_URL).status_code == 200
    for _ in range(5):
        person = TitulaireFactory()
        f.give_rights(person, 200_000)
        other = evaluate(finished(person, ended.session, organisme_user), 3, comment="Correct")
        services.evaluation_moderate(evaluation_id=other.pk, by=operator, publish=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Correct" in text(client.get(ORGANISME_URL))


def test_the_admin_queue_publishes_and_refuses_with_a_reason(client, ended, operator):
    evaluation = evaluate(ended, 2, comment="À éviter")
    client.force_login(operator)
    changelist = reverse("admin:evaluations_evaluation_changelist")
    page = text(client.get(changelist))
    assert "À éviter" in page
    asked = client.post(changelist, {"action": "refuse", "_selected_action": [evaluation.pk]})
    assert asked.status_code == 200 and "Motif du refus" in text(asked)
    client.post(changelist, {"action": "refuse", "_selected_action": [evaluation.pk], "apply": "1", "reason": "Propos injurieux"})
    evaluation.refresh_from_db()
    assert (evaluation.moderation, evaluation.refusal_reason, evaluation.accueil) == (Moderation.REFUSED, "Propos injurieux", 2)
    assert "À éviter" not in text(client.get(changelist))  # the queue shows what waits
    client.post(changelist + "?moderation=all", {"action": "publish", "_selected_action": [evaluation.pk]})
    evaluation.refresh_from_db()
    assert evaluation.moderation == Moderation.PUBLISHED
