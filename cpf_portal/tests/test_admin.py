"""The operators' admin: French labels, money in euros, business sections first, the DIF
control page with the attestation beside the decision, a favicon."""

import datetime
import re

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from catalogue.models import Action
from cpf_portal.admin_mixins import EurosField
from cpf_portal.admin_site import BUSINESS_ORDER, TECHNICAL_PREFIX
from cpf_portal.money import euros
from cpf_portal.testing import text
from dossiers.workflow import Status
from financing import services
from financing.models import DatedRule, DifAttestation
from financing.tests.factories import attestation

OUR_APPS = {
    "accounts",
    "api",
    "billing",
    "catalogue",
    "dossiers",
    "equipes",
    "financing",
    "franceconnect",
    "notifications",
    "securite",
    "interlocuteurs",
}
# Field names that are already the French word an operator reads.
FRENCH_AS_IS = {
    "commune", "organisme", "formation", "dossier", "titulaire", "session", "description", "message", "situation",
    "version", "population", "latitude", "longitude", "code", "certification", "certificateur", "contenu", "objectifs",
    "type", "siret", "reference", "email", "iban", "bic", "name", "id", "raison_sociale", "force_majeure", "rythmes",
    "places", "format", "financeur", "nature", "transition", "source",
}  # fmt: skip


def our_admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items() if model._meta.app_label in OUR_APPS]


def test_every_field_the_admin_shows_has_a_french_label():
    shown = {model for model, _ in our_admins()} | {inline.model for _, model_admin in our_admins() for inline in model_admin.inlines}
    english = []
    for model in shown:
        for field in model._meta.concrete_fields:
            if str(field.verbose_name) == field.name.replace("_", " ") and field.name not in FRENCH_AS_IS:
                english.append(f"{model._meta.label}.{field.name}")
    assert english == []


def test_no_admin_shows_raw_cents(operator):
    request = RequestFactory().get("/admin/")
    request.user = operator
    for model, model_admin in our_admins():
        columns = [*model_admin.get_list_display(request), *model_admin.get_readonly_fields(request)]
        assert not [c for c in columns if isinstance(c, str) and c.endswith("_cents")], model
        for inline in model_admin.get_inline_instances(request):
            assert not [c for c in inline.get_readonly_fields(request) if isinstance(c, str) and c.endswith("_cents")], inline
        if model_admin.has_add_permission(request):
            form = model_admin.get_form(request)()
            for name, form_field in form.fields.items():
                assert not name.endswith("_cents") or isinstance(form_field, EurosField), (model, name)


def test_every_admin_page_opens_in_french_with_euros(client, operator, make_dossier, settings):
    settings.CPF_DIF_DEADLINE = settings.CPF_DIF_DEADLINE.replace(year=2099)
    dossier = make_dossier(Status.IN_TRAINING)
    services.dif_declare(account=services.account_for(dossier.titulaire), situation="un", attestations=[attestation(10)])
    client.force_login(operator)
    opened = 0
    for model, _ in our_admins():
        opts = model._meta
        for url in [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")] + [
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]) for pk in model.objects.values_list("pk", flat=True)[:1]
        ]:
            response = client.get(url)
            assert response.status_code == 200, url
            page = text(response)
            for raw in ("(centimes)", "Public id", "Created at", "Account", "FULL NAME", "Full name"):
                assert raw not in page, (url, raw)
            opened += 1
    assert opened > 40
    dossier_page = text(client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk])))
    assert euros(dossier.price_cents) in dossier_page and euros(dossier.droits_cents) in dossier_page


def test_every_admin_add_page_opens_for_a_superuser(client, operator):
    assert operator.is_superuser
    client.force_login(operator)
    request = RequestFactory().get("/admin/")
    request.user = operator
    opened = 0
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_add_permission(request):
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        response = client.get(url)
        assert response.status_code == 200, url
        opened += 1
    assert opened >= 15
    organisme_add = text(client.get(reverse("admin:catalogue_organisme_add")))
    assert "Suspendre ou lever la suspension" not in organisme_add


def test_cpf_accounts_list_their_balance_in_euros_in_a_fixed_number_of_queries(
    client, operator, titulaire_with_rights, django_assert_max_num_queries
):
    client.force_login(operator)
    available = services.balances(services.account_for(titulaire_with_rights))["available"]
    url = reverse("admin:financing_cpfaccount_changelist")
    with django_assert_max_num_queries(12):
        response = client.get(url, {"o": "2"})
    page = text(response)
    assert "Droits disponibles" in page
    assert re.search(re.escape(f"{available // 100:,}".replace(",", "\u202f")) + r",00\s€", page)


def test_a_price_is_typed_in_euros_and_kept_in_cents(client, operator, session):
    client.force_login(operator)
    action = Action.objects.get(pk=session.action_id)
    url = reverse("admin:catalogue_action_change", args=[action.pk])
    form = client.get(url).context["adminform"].form
    assert 'value="870,00"' in str(form["price_cents"])
    assert form.fields["price_cents"].label == "Prix TTC (€)" or form.fields["price_cents"].label.endswith("(€)")
    assert form.fields["price_cents"].clean("1 245,50") == 124_550


def test_sections_business_first_technical_apart(client, operator):
    client.force_login(operator)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    labels = [app["app_label"] for app in app_list]
    names = [app["name"] for app in app_list]
    technical = [n for n in names if n.startswith(TECHNICAL_PREFIX)]
    assert {"axes", "django_celery_beat", "dsfr", "auditlog"} <= {a["app_label"] for a in app_list if a["name"].startswith(TECHNICAL_PREFIX)}
    assert names[-len(technical) :] == technical  # technical sections come last
    business = [label for label in labels if label in BUSINESS_ORDER]
    assert business == sorted(business, key=BUSINESS_ORDER.index) and labels[:3] == ["accounts", "financing", "dossiers"]
    assert not {"otp_totp", "otp_static"} & set(labels)  # English library pages left out


def test_celery_beats_sections_read_in_correct_french(client, operator):
    from django.db.migrations.state import ModelState
    from django_celery_beat.models import IntervalSchedule

    client.force_login(operator)
    app_list = client.get(reverse("admin:index")).context["app_list"]
    beat = next(app for app in app_list if app["app_label"] == "django_celery_beat")
    names = {model["name"] for model in beat["models"]}
    assert {"Intervalles", "Tâches périodiques", "Évènements solaires"} <= names
    assert not {"Intervales", "Tâches périodique", "Évènements solaire"} & names
    page = text(client.get(reverse("admin:django_celery_beat_intervalschedule_changelist")))
    assert "Intervalles" in page and "Intervales" not in page
    # Display only: the library's migrations see its own declared names.
    declared = ModelState.from_model(IntervalSchedule).options["verbose_name"]
    assert declared is IntervalSchedule._meta.original_attrs["verbose_name"] and str(declared) != "intervalle"


def test_operator_resets_a_second_factor(client, operator, organisme_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=organisme_user, name="Téléphone", confirmed=True)
    client.force_login(operator)
    client.post(reverse("admin:accounts_user_changelist"), {"action": "reset_second_factor", "_selected_action": [organisme_user.pk]})
    assert not TOTPDevice.objects.filter(user=organisme_user).exists()


def test_dif_control_shows_the_attestation_beside_the_decision(client, operator, titulaire, settings):
    settings.CPF_DIF_DEADLINE = settings.CPF_DIF_DEADLINE.replace(year=2099)
    declaration = services.dif_declare(account=services.account_for(titulaire), situation="un", attestations=[attestation(50)])
    item = DifAttestation.objects.get()
    client.force_login(operator)
    response = client.get(reverse("admin:financing_difdeclaration_review", args=[declaration.pk]))
    html = response.content.decode()
    file_url = reverse("admin:financing_difattestation_file", args=[item.public_id])
    assert f'<iframe src="{file_url}"' in html and "cpf-review__decision" in html
    assert "750,00" in text(response) and "Un seul employeur" in text(response)
    assert ' style="' not in html.split('id="content-main"')[1]  # nothing the CSP would block
    assert "cpf/admin.css" in html and "favicon" in html
    shown = client.get(file_url)
    assert shown.getvalue().startswith(b"%PDF")
    assert shown["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in shown["Content-Security-Policy"]
    # The public pages still refuse to be framed.
    assert "frame-ancestors 'none'" in client.get(reverse("home"))["Content-Security-Policy"]


def test_favicon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".ico")


def test_a_money_rule_is_typed_in_euros(client, operator):
    client.force_login(operator)
    url = reverse("admin:financing_datedrule_add")
    data = {"key": DatedRule.Key.PERMIS_MIN_COFINANCING, "start_date": "01/01/2030", "value": "150,00", "source": "Test"}
    assert client.post(url, data).status_code == 302
    rule = DatedRule.objects.get(start_date=datetime.date(2030, 1, 1))
    assert rule.value == 15_000 and "150,00" in text(client.get(reverse("admin:financing_datedrule_changelist")))
    refused = client.post(url, {**data, "key": DatedRule.Key.BILAN_MIN_HOURS, "value": "12,5"})
    assert "Cette règle attend un nombre entier." in text(refused)


def test_the_admin_is_for_operators_only(client, titulaire):
    client.force_login(titulaire)
    assert client.get(reverse("admin:financing_cpfaccount_changelist")).status_code == 302


def test_the_dossier_list_gives_the_deadline_as_users_read_it(client, operator, make_dossier):
    from cpf_portal.templatetags import deadline_day

    dossier = make_dossier(Status.SERVICE_DONE)
    client.force_login(operator)
    page = text(client.get(reverse("admin:dossiers_dossier_changelist")))
    day = deadline_day(dossier.deadline_at)  # midnight is the end of the day before
    assert f"Validation automatique du service fait après le {day}" in page
    assert "00:00" not in page
