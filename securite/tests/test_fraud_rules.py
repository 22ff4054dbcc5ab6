"""The anti-fraud rules that hold a purchase, each a setting (domain notes §9): proposals in
a burst to accounts just created, a purchase soon after an e-mail change, too many purchases
in a day. A hold is an alert for the operators."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import TitulaireFactory
from cpf_portal.testing import text
from dossiers.models import Dossier
from dossiers.tests import factories as f
from securite.models import EmailChange, FraudAlert
from securite.services import fraud_hold

pytestmark = pytest.mark.django_db


def fresh_titulaire(minutes_ago: int):
    titulaire = TitulaireFactory()
    f.give_rights(titulaire, 75_000)
    titulaire.date_joined = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    titulaire.save(update_fields=["date_joined"])
    return titulaire


@pytest.mark.parametrize(("accounts", "minutes_ago", "held"), [(3, 10, True), (2, 10, False), (3, 61, False)])
def test_an_organisme_proposing_in_a_burst_to_accounts_just_created(organisme, organisme_user, settings, accounts, minutes_ago, held):
    settings.CPF_FRAUD_BURST_PROPOSALS, settings.CPF_FRAUD_NEW_ACCOUNT_MINUTES = 3, 60
    dossiers = [f.proposed(fresh_titulaire(minutes_ago), f.session_for(organisme), organisme_user) for _ in range(accounts)]
    last = dossiers[-1]
    hold = fraud_hold(last)
    assert bool(hold) == held
    if held:
        assert "en cours de vérification par nos services" in hold
        alert = FraudAlert.objects.get(dossier=last)
        assert alert.rule == FraudAlert.Rule.NEW_ACCOUNT_BURST and "3 comptes" in alert.detail
        alert.handled_at = timezone.now()  # an operator has looked: the purchase may go on
        alert.save()
        assert fraud_hold(last) == ""
    else:
        assert not FraudAlert.objects.exists()


@pytest.mark.parametrize(("hours_ago", "held"), [(23, True), (25, False)])
def test_a_purchase_soon_after_the_email_changed(client, titulaire_with_rights, organisme, organisme_user, confirm_purchase, hours_ago, held):
    dossier = f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=hours_ago)):
        titulaire_with_rights.email = "nouvelle.adresse@exemple.fr"
        titulaire_with_rights.save(update_fields=["email"])
    assert EmailChange.objects.get().new_email == "nouvelle.adresse@exemple.fr"
    client.force_login(titulaire_with_rights)
    confirm_purchase(titulaire_with_rights, dossier)
    page = text(client.get(reverse("dossiers:accept", args=[dossier.numero])))
    assert ("Votre adresse électronique a changé le" in page) == held
    response = client.post(reverse("dossiers:accept", args=[dossier.numero]), {"version": dossier.version, "expected_reste_cents": 12_000})
    if held:
        assert response.status_code == 403 and "pour votre sécurité, vos achats reprennent le" in text(response)
        assert FraudAlert.objects.get().rule == FraudAlert.Rule.EMAIL_CHANGED
    else:
        assert response.status_code == 400  # past the hold: on to the card form (left empty here)
        assert not FraudAlert.objects.exists()


def test_saving_other_fields_records_no_change(titulaire):
    titulaire.first_name = "Dominique"
    titulaire.save()
    titulaire.save(update_fields=["last_login"])
    assert not EmailChange.objects.exists()


@pytest.mark.parametrize(("today", "held"), [(3, True), (2, False)])
def test_more_than_n_purchases_in_a_day(titulaire_with_rights, organisme, organisme_user, settings, today, held):
    settings.CPF_FRAUD_MAX_PURCHASES_PER_DAY = 3
    bought = [f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user).pk for _ in range(today)]
    Dossier.objects.filter(pk__in=bought).update(accepted_at=timezone.now())  # bought earlier today
    proposal = f.proposed(titulaire_with_rights, f.session_for(organisme), organisme_user)
    hold = fraud_hold(proposal)
    assert (hold == f"Vous avez déjà fait {today} achats aujourd'hui : pour votre sécurité, le suivant sera possible demain.") == held
    assert FraudAlert.objects.filter(rule=FraudAlert.Rule.DAILY_PURCHASES).exists() == held
