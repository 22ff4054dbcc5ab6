"""« Mes données »: the JSON export, and the deletion of the account (refused while a
dossier is in progress; personal data erased, amounts kept)."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ContactRequest, User
from accounts.tests.factories import TitulaireFactory
from catalogue.models import Favori
from cpf_portal.testing import text
from dossiers import services
from dossiers.models import Dossier
from dossiers.tests import factories as f
from dossiers.workflow import Actor, Status
from financing import services as money
from financing.models import DifAttestation, Movement
from financing.tests.factories import attestation
from notifications.models import Notification

pytestmark = pytest.mark.django_db
URL = reverse("mes_donnees:my-data")


@pytest.fixture
def cast(settings, organisme, organisme_user, session):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=40)
    titulaire = TitulaireFactory(first_name="Camille", last_name="Durand", email="camille@exemple.fr", password="Formation2020")
    account = money.account_for(titulaire)
    money.dif_declare(account=account, situation="un", attestations=[attestation("50", employer="Boulangerie Dupain")])
    Favori.objects.create(user=titulaire, formation=session.formation)
    ContactRequest.objects.create(
        user=titulaire,
        name="Camille Durand",
        email=titulaire.email,
        subject="dossier",
        message="Où en est mon dossier ?",
        client_key="k",
        reference="A-1",
    )
    return {"organisme": organisme, "titulaire": titulaire, "staff": organisme_user, "session": session}


def cancelled(cast):
    dossier = f.sent(cast["titulaire"], cast["session"])
    return services.dossier_transition(dossier_id=dossier.pk, name="cancel_request", actor=Actor.TITULAIRE, by=cast["titulaire"])


def test_export_holds_everything_about_me_and_nothing_about_others(client, cast):
    dossier = cancelled(cast)
    other = TitulaireFactory(last_name="Autre")
    f.give_rights(other, 10_000)
    f.sent(other, f.session_for(cast["organisme"]))
    client.force_login(cast["titulaire"])
    response = client.get(URL, {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    profile = data["profil"]
    assert (profile["email"], profile["nir"], profile["last_name"]) == ("camille@exemple.fr", cast["titulaire"].nir, "Durand")
    assert profile["birth_date"] == "1990-05-17"
    assert [m["amount_cents"] for m in data["droits"]["mouvements"]] == [75_000]
    assert data["droits"]["saisies_dif"][0]["hours"] == 50
    assert data["droits"]["attestations_dif"][0]["employer"] == "Boulangerie Dupain"
    assert [d["numero"] for d in data["dossiers"]] == [dossier.numero]
    assert data["dossiers"][0]["status"] == Status.CANCELLED_BY_TITULAIRE
    assert [e["transition"] for e in data["historique_des_dossiers"]] == ["create", "send", "cancel_request"]
    assert data["favoris"][0]["formation__numero"] == cast["session"].formation.numero
    assert data["demandes_d_assistance"][0]["message"] == "Où en est mon dossier ?"
    assert "Autre" not in response.content.decode() and "password" not in response.content.decode()


def test_export_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    for _ in range(5):
        cancelled(cast)
    client.force_login(cast["titulaire"])
    # One or two queries per section of the export (account, ledger, dossiers, evaluations,
    # documents, co-financing requests…), whatever the number of rows.
    with django_assert_max_num_queries(24):
        data = client.get(URL, {"format": "json"}).json()
    assert len(data["dossiers"]) == 5


def test_deletion_is_refused_while_a_dossier_is_in_progress(client, cast):
    f.sent(cast["titulaire"], cast["session"])
    client.force_login(cast["titulaire"])
    page = text(client.get(URL))
    assert "Un dossier de formation est en cours" in page and "Supprimer mon compte</button>" not in page
    response = client.post(URL, {"password": "Formation2020", "confirm": "on"}, follow=True)
    assert "vous pourrez supprimer votre compte quand il sera terminé ou annulé" in text(response)
    cast["titulaire"].refresh_from_db()
    assert cast["titulaire"].is_active and cast["titulaire"].last_name == "Durand"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"password": "mauvais", "confirm": "on"}, "Mot de passe incorrect."),
        ({"password": "Formation2020"}, "Cochez la case pour confirmer la suppression."),
        ({}, "Ce champ est obligatoire"),
    ],
)
def test_deletion_needs_the_password_and_the_box(client, cast, data, message):
    client.force_login(cast["titulaire"])
    response = client.post(URL, data)
    assert response.status_code == 400 and message in text(response)
    assert User.objects.get(pk=cast["titulaire"].pk).anonymized_at is None


def test_deletion_erases_personal_data_and_keeps_the_amounts(client, cast):
    dossier = cancelled(cast)
    draft = f.draft(cast["titulaire"], f.session_for(cast["organisme"]))
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from securite.models import EmailChange, Passkey

    Passkey.objects.create(user=cast["titulaire"], name="Mon téléphone", credential_id="abc", public_key=b"k")
    TOTPDevice.objects.create(user=cast["titulaire"], name="Application", confirmed=True)
    movements_before = list(Movement.objects.order_by("id").values_list("kind", "amount_cents"))
    client.force_login(cast["titulaire"])
    response = client.post(URL, {"password": "Formation2020", "confirm": "on"}, follow=True)
    assert "Votre compte est supprimé et vos données personnelles sont effacées." in text(response)
    user = User.objects.get(pk=cast["titulaire"].pk)
    assert user.anonymized_at and not user.is_active and not user.has_usable_password()
    assert (user.nir, user.birth_date, user.first_name, user.last_name) == (None, None, "Compte", "supprimé")
    assert user.email.endswith("@invalid") and "camille" not in user.email
    # Amounts stay (accounting), attached to the anonymous account.
    assert list(Movement.objects.order_by("id").values_list("kind", "amount_cents")) == movements_before
    dossier.refresh_from_db()
    assert dossier.status == Status.CANCELLED_BY_TITULAIRE and dossier.price_cents == 87_000 and dossier.titulaire_info == {}
    assert Dossier.objects.get(pk=draft.pk).status == Status.DELETED
    # Personal content goes.
    attestation_row = DifAttestation.objects.get()
    assert attestation_row.employer == "(effacé)" and not attestation_row.file
    assert not Favori.objects.exists() and not Notification.objects.filter(user=user).exists()
    assert ContactRequest.objects.get().message == "(effacé)"
    # Strong factors, and every address the account had (its change to the anonymous one too).
    assert not Passkey.objects.exists() and not TOTPDevice.objects.exists() and not EmailChange.objects.exists()
    # Logged out, and the old credentials no longer open anything.
    assert client.get(reverse("accounts:home")).status_code == 302
    for username in ("camille@exemple.fr", cast["titulaire"].nir):
        response = client.post(reverse("accounts:login"), {"username": username, "password": "Formation2020"})
        assert response.status_code == 400 and not response.wsgi_request.user.is_authenticated


def test_only_titulaires_have_mes_donnees(client, cast):
    client.force_login(cast["staff"])
    assert client.get(URL).status_code == 403
