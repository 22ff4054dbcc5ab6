"""The rights chart tells the truth (one point per day: the balance at the end of that day)
and the history groups a dossier's movements under it, in a fixed number of queries."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cpf_portal.testing import text
from dossiers.tests import factories as f
from financing import services
from financing.chart import balance_chart, daily_points, nice_top
from financing.models import Movement
from financing.tests.factories import credit

pytestmark = pytest.mark.django_db
URL = reverse("financing:rights")
PARIS = datetime.timezone(datetime.timedelta(hours=1))


def at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=PARIS)


def test_one_point_per_day_at_the_end_of_day_balance():
    running = [(at(2, 9), 50_000), (at(2, 17), 30_000), (at(5, 10), 80_000), (at(5, 23), 60_000), (at(9, 8), 65_000)]
    assert daily_points(running) == [
        (datetime.date(2026, 3, 2), 30_000),
        (datetime.date(2026, 3, 5), 60_000),
        (datetime.date(2026, 3, 9), 65_000),
    ]
    chart = balance_chart(running, today=datetime.date(2026, 3, 20))
    assert len(chart["dots"]) == 3 and chart["last"] == 65_000
    assert chart["points"][0] == (datetime.date(2026, 3, 9), 65_000)  # the table: newest first
    assert chart["start"] == datetime.date(2026, 3, 2) and chart["end"] == datetime.date(2026, 3, 20)
    # The axis reads round amounts: 650 € rounds up to 1 000 €.
    assert [label for _, label in chart["ticks"]] == ["0\u00a0€", "500\u00a0€", "1\u202f000\u00a0€"]


def test_a_day_ends_at_midnight_in_paris():
    late = datetime.datetime(2026, 3, 2, 22, 30, tzinfo=datetime.UTC)  # 23:30 in Paris
    assert daily_points([(at(2, 9), 100), (late, 200)]) == [(datetime.date(2026, 3, 2), 200)]


@pytest.mark.parametrize(("cents", "top"), [(0, 10_000), (36_250, 50_000), (75_000, 100_000), (136_250, 200_000), (230_000, 250_000)])
def test_the_axis_top_is_a_round_amount(cents, top):
    assert nice_top(cents) == top


def test_the_page_shows_one_point_per_day_and_the_table(client, titulaire):
    account = services.account_for(titulaire)
    credit(account, 50_000, year=2023)
    services.rights_lock(account=account, amount_cents=20_000, label="Droits bloqués pour le dossier n° 3859095851", reference="3859095851")
    client.force_login(titulaire)
    html = text(client.get(URL))
    assert html.count('class="cpf-chart__dot"') == 1  # two movements today: one point
    table = html[html.index('id="donnees-graphique"') :]
    assert "<summary>Afficher les données du graphique</summary>" in table
    assert "<caption>Droits disponibles en fin de journée, par jour de mouvement</caption>" in table
    assert f"<td>{timezone.localdate():%d/%m/%Y}</td>" in table and "300,00\u00a0€" in table.split("</table>")[0]


def test_the_history_groups_a_dossiers_movements(client, titulaire_with_rights, session, organisme_user):
    dossier = f.accepted(titulaire_with_rights, session, organisme_user)
    account = services.account_for(titulaire_with_rights)
    services.abondement_add(account=account, amount_cents=5_000, financeur="Région Grand Est")
    client.force_login(titulaire_with_rights)
    html = text(client.get(URL))
    history = html[html.index('id="historique-titre"') :]
    group = re.search(rf'<tbody class="cpf-history-group" id="historique-dossier-{dossier.numero}">(.*?)</tbody>', history, re.S).group(1)
    assert f"Dossier n° {dossier.numero}</a> — {dossier.formation.intitule}" in group
    assert f"Droits bloqués pour le dossier n° {dossier.numero}" in group and "750,00\u00a0€ bloqués" in group
    assert "Alimentation" not in group and "Région Grand Est" not in group
    # Newest entry first: the abondement, then the dossier, then the yearly credit.
    assert history.index("Région Grand Est") < history.index(f"historique-dossier-{dossier.numero}") < history.index("Alimentation du compte 2023")


def test_the_history_counts_entries_per_page_and_keeps_its_queries(client, titulaire, django_assert_max_num_queries, session, organisme_user):
    account = services.account_for(titulaire)
    credit(account, 50_000, year=2019)
    client.force_login(titulaire)
    with django_assert_max_num_queries(16) as few:
        client.get(URL)
    for year in range(2020, 2026):
        credit(account, 50_000, year=year)
    for index in range(25):
        services.abondement_add(account=account, amount_cents=100, financeur=f"Financeur {index}")
    for index in range(3):
        services.rights_lock(account=account, amount_cents=100, label=f"Blocage {index}", reference=str(index))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    html = text(response)
    assert html[html.index('id="historique-titre"') :].count("<tbody") == 20  # 20 entries on a page
    assert Movement.objects.filter(account=account).count() == 35
