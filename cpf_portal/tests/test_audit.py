"""The audit trail: who changed what, when and from where, on money, catalogue, users and roles;
never a password hash or a NIR in clear; the titulaire finds the entries about them in
« Mes données »."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from catalogue.models import Session
from catalogue.tests.factories import FormationFactory, SessionFactory, commune
from financing.models import CpfAccount, Movement
from financing.tests.factories import credit
from mes_donnees.services import delete_account, export_data

pytestmark = pytest.mark.django_db


def entries_for(instance):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(instance.__class__), object_id=instance.pk).order_by("pk")


def admin_form_data(response) -> dict:
    """The data a browser would post back from an admin change form, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, datetime.datetime):
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().strftime("%H:%M:%S")
        else:
            data[name] = str(value)
    return data


def test_operator_correction_in_the_financing_admin_is_recorded_with_who_and_where(client, operator, titulaire):
    account = CpfAccount.objects.create(user=titulaire)
    credit(account, 100_000)
    client.force_login(operator)
    response = client.post(
        reverse("admin:financing_cpfaccount_correction", args=[account.pk]),
        {"amount": "-50,00", "reason": "Double crédit 2023"},
        REMOTE_ADDR="192.0.2.44",
        HTTP_X_REQUEST_ID="req-correction-0001",
    )
    assert response.status_code == 302
    movement = Movement.objects.get(account=account, reason="Double crédit 2023")
    entry = entries_for(movement).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == operator
    assert entry.remote_addr == "192.0.2.44"
    assert entry.cid == "req-correction-0001"
    assert entry.changes["amount_cents"] == [None, -5000]
    assert entry.changes["reason"][1] == "Double crédit 2023"
    assert entry.timestamp >= timezone.now() - datetime.timedelta(minutes=1)


def test_organisme_price_change_is_recorded(client, organisme_user):
    formation = FormationFactory(organisme=organisme_user.organisme)
    start = timezone.localdate() + datetime.timedelta(days=20)
    session = SessionFactory(
        formation=formation, price_cents=87_000, commune=commune("metz"), start_date=start, end_date=start + datetime.timedelta(days=5)
    )
    client.force_login(organisme_user)
    response = client.post(
        reverse("catalogue:organisme-action", args=[session.action.public_id]),
        {"modalite": "presentiel", "address": "18 Rue des Feivres", "lieu": "Metz (57070)", "prix": "990,00", "duree_heures": "35"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    assert Session.objects.get(pk=session.pk).price_cents == 99_000  # the session follows its action
    entry = entries_for(session.action).filter(action=LogEntry.Action.UPDATE).last()
    assert entry.changes["price_cents"] == [87_000, 99_000]
    assert entry.actor == organisme_user
    assert entry.remote_addr == "198.51.100.7"


def test_role_change_in_the_user_admin_is_recorded_without_password_or_nir(client, operator, titulaire):
    client.force_login(operator)
    url = reverse("admin:accounts_user_change", args=[titulaire.pk])
    data = admin_form_data(client.get(url))
    data.update(role=Role.OPERATEUR, is_staff="on")
    response = client.post(url, data, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    titulaire.refresh_from_db()
    assert titulaire.role == Role.OPERATEUR
    entry = entries_for(titulaire).filter(action=LogEntry.Action.UPDATE).last()
    assert entry.changes["role"] == ["titulaire", "operateur"]
    assert entry.changes["is_staff"] == [False, True]
    assert entry.actor == operator and entry.remote_addr == "203.0.113.9"
    assert "password" not in entry.changes


def test_password_hash_and_nir_never_reach_the_trail(titulaire):
    nir = titulaire.nir
    titulaire.set_password("Un-autre-mot-de-passe-2026")
    titulaire.nir = "2" + nir[1:] if nir[0] == "1" else "1" + nir[1:]
    titulaire.save()
    stored = json.dumps([[e.changes, e.changes_text, e.object_repr, e.serialized_data] for e in entries_for(titulaire)], default=str)
    assert nir not in stored and titulaire.nir not in stored
    assert titulaire.password not in stored and "pbkdf2" not in stored
    assert entries_for(titulaire).last().changes["nir"] == ["***", "***"]


def test_audit_admin_lets_operators_search_the_trail(client, operator, titulaire):
    account = CpfAccount.objects.create(user=titulaire)
    credit(account, 12_300)
    client.force_login(operator)
    client.post(reverse("admin:financing_cpfaccount_correction", args=[account.pk]), {"amount": "5,00", "reason": "Geste"}, REMOTE_ADDR="192.0.2.77")
    response = client.get(reverse("admin:auditlog_logentry_changelist"), {"q": "192.0.2.77"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [LogEntry.objects.get(remote_addr="192.0.2.77")]
    assert "192.0.2.77" in response.content.decode()
    entry = LogEntry.objects.get(remote_addr="192.0.2.77")
    detail = client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and "192.0.2.77" in detail.content.decode()
    # Read-only: nobody edits or deletes the trail from the admin.
    assert client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_mes_donnees_export_holds_the_entries_about_the_titulaire(titulaire, operator):
    from auditlog.context import set_actor

    account = CpfAccount.objects.create(user=titulaire)
    with set_actor(operator, remote_addr="192.0.2.1"):
        titulaire.phone_mobile = "0612345678"
        titulaire.save()
        credit(account, 1_000)
    data = export_data(titulaire)
    journal = data["journal_des_modifications"]
    profile = [row for row in journal if row["objet"] == "profil" and row["action"] == "modification"]
    assert profile and profile[-1]["modifications"]["phone_mobile"] == ["", "0612345678"]
    assert profile[-1]["auteur"] == operator.get_role_display()
    assert any(row["objet"] == "compte CPF" and row["action"] == "création" for row in journal)
    assert titulaire.nir not in json.dumps(journal, default=str)
    # Nobody else's entries.
    other = User.objects.exclude(pk=titulaire.pk).first()
    assert other.email not in json.dumps(journal, default=str)


def test_account_deletion_erases_personal_values_from_the_trail(titulaire):
    old_email = titulaire.email
    titulaire.first_name = "Camille-Test"
    titulaire.save()
    delete_account(titulaire)
    stored = json.dumps([[e.changes, e.object_repr, e.actor_email] for e in entries_for(titulaire)], default=str)
    assert old_email not in stored and "Camille-Test" not in stored
    assert entries_for(titulaire).filter(action=LogEntry.Action.UPDATE).exists()
