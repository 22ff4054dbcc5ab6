import datetime

import pytest

from dossiers import deadlines
from dossiers.deadlines import PARIS


@pytest.mark.parametrize(
    "day, count, expected",
    [
        (datetime.date(2026, 11, 6), 2, datetime.date(2026, 11, 10)),  # Friday → Tuesday, over the weekend
        (datetime.date(2026, 11, 10), 2, datetime.date(2026, 11, 13)),  # Wednesday 11 is Armistice
        (datetime.date(2026, 12, 24), 2, datetime.date(2026, 12, 29)),  # Christmas and a weekend
        (datetime.date(2027, 3, 26), 1, datetime.date(2027, 3, 30)),  # Easter Monday 29/03/2027
        (datetime.date(2027, 5, 5), 1, datetime.date(2027, 5, 7)),  # Ascension Thursday 06/05/2027
        (datetime.date(2026, 11, 20), 11, datetime.date(2026, 12, 7)),
    ],
)
def test_add_working_days(day, count, expected):
    assert deadlines.add_working_days(day, count) == expected


def test_working_days_between():
    assert deadlines.working_days_between(datetime.date(2026, 11, 6), datetime.date(2026, 11, 13)) == 4  # 11/11 off
    assert deadlines.working_days_between(datetime.date(2026, 11, 13), datetime.date(2026, 11, 6)) == 0


def test_deadline_ends_at_midnight_paris_after_the_last_working_day():
    friday_evening = datetime.datetime(2026, 11, 6, 22, 30, tzinfo=datetime.UTC)  # 23:30 in Paris
    assert deadlines.deadline_after(friday_evening, 2) == datetime.datetime(2026, 11, 11, 0, 0, tzinfo=PARIS)
    saturday_paris = datetime.datetime(2026, 11, 6, 23, 30, tzinfo=datetime.UTC)  # 00:30 Saturday in Paris
    assert deadlines.deadline_after(saturday_paris, 2) == datetime.datetime(2026, 11, 11, 0, 0, tzinfo=PARIS)
    assert deadlines.deadline_after(datetime.datetime(2026, 11, 10, 9, 0, tzinfo=PARIS), 2) == datetime.datetime(2026, 11, 14, 0, 0, tzinfo=PARIS)


def test_subtract_working_days():
    assert deadlines.subtract_working_days(datetime.date(2026, 11, 12), 2) == datetime.date(2026, 11, 9)
