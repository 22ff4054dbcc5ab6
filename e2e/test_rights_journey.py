"""A new titulaire lands on « Mes droits formation » with credited years: in the demo
(`make run`, CPF_SIMULATED_DSN on by default) the simulated DSN gives his NIR its career when
the account is activated, dated as the real credits are."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import TitulaireFactory, nir_for
from cpf_portal.money import euros
from e2e.a11y import Audit
from e2e.conftest import SCREENSHOTS, field, login, sign_up
from financing import dsn
from financing.models import YearlyDeclaration

BIRTH = datetime.date(1986, 4, 12)


def a_nir_with_a_career() -> tuple[str, list[dsn.DeclaredYear]]:
    """A NIR born in 1986 whose simulated career holds several years, one of them part time."""
    for order in range(1, 999):
        nir = nir_for(BIRTH, sex="2", order=order)
        career = dsn.simulated_career(nir, today=timezone.localdate(), birth_year=BIRTH.year)
        if len(career) >= 4 and any(year.hours_worked < 803 for year in career):
            return nir, career
    raise AssertionError("no such NIR")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.django_db(transaction=True)
def test_a_new_titulaire_sees_his_credited_rights_right_after_signing_up(live_server, page, screenshot, send_queued_emails, settings, width):
    settings.CPF_SIMULATED_DSN = True  # `make run`'s default (DEBUG); the tests run with production's
    page.set_viewport_size({"width": width, "height": 900})
    nir, career = a_nir_with_a_career()
    page.goto(live_server.url)
    page.get_by_role("link", name="Je crée mon compte").first.click()
    sign_up(
        page, send_queued_emails, nir=nir, last_name="Lefèvre", first_name="Julie", birth_date=BIRTH.isoformat(), email="julie.lefevre@exemple.fr"
    )
    field(page, "Numéro de sécurité sociale ou adresse électronique").fill(nir)
    field(page, "Mot de passe").fill("Formation2020")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()

    page.locator("main").get_by_role("link", name=re.compile(r"^\s*Mes droits formation")).click()
    expect(page.get_by_role("heading", name="Mes droits formation", level=1)).to_be_visible()
    declarations = {d.year: d for d in YearlyDeclaration.objects.filter(account__user__nir=nir)}
    assert sorted(declarations) == [year.year for year in career]
    total = sum(d.credited_cents for d in declarations.values())
    assert total > 0
    expect(page.locator("#droits-disponibles")).to_have_text(euros(total))
    expect(page.locator("#droits-disponibles")).to_be_in_viewport()
    expect(page.get_by_role("heading", name="Mes droits acquis chaque année")).to_be_visible()
    yearly = page.get_by_role("table", name="Mes droits acquis chaque année")
    history = page.get_by_role("table", name="Historique des mouvements de mon compte")
    for declared in career:
        row = yearly.get_by_role("row").filter(has_text=re.compile(rf"^\s*{declared.year}\b"))
        expect(row).to_contain_text(euros(declarations[declared.year].credited_cents))
        expect(row).to_contain_text(f"{declared.credited_on:%d/%m/%Y}")
        # In the history, on the day the real credit is posted (first half of the following year).
        line = history.get_by_role("row").filter(has_text=f"Alimentation du compte {declared.year}")
        expect(line).to_contain_text(f"{declared.credited_on:%d/%m/%Y}")
    expect(yearly).to_contain_text("(au prorata)")  # the part-time year below half time
    screenshot(f"droits-nouveau-titulaire-{width}")


@pytest.mark.django_db(transaction=True)
def test_rights_page_with_its_yearly_declarations_passes_the_audit(live_server, audit_page, settings):
    """« Mes droits formation » with « Mes droits acquis chaque année » (a full career, a
    prorata year): zero axe-core violations at 1280 and 320 px, zero Nu errors."""
    settings.CPF_SIMULATED_DSN = True
    nir, _career = a_nir_with_a_career()
    TitulaireFactory(nir=nir, birth_date=BIRTH, email="julie.lefevre@exemple.fr")
    audit = Audit(audit_page, "droits-dsn", SCREENSHOTS)
    login(audit_page, live_server, "julie.lefevre@exemple.fr")
    audit.visit(live_server.url + "/mes-droits/", "mes-droits-dsn")
    expect(audit_page.get_by_role("table", name="Mes droits acquis chaque année")).to_contain_text("(au prorata)")
    assert audit.assert_clean() == 1
