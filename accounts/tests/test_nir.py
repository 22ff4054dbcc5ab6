import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts import nir
from accounts.tests.factories import nir_for


@pytest.mark.parametrize(
    "value, stored",
    [
        ("295109912611193", "295109912611193"),
        ("2 95 10 99 126 111 93", "295109912611193"),
        ("253072B07300470", "253072B07300470"),
        ("253072A07300443", "253072A07300443"),
        ("2 53 07 2a 073 004 43", "253072A07300443"),
        ("255081416802538", "255081416802538"),
        ("2.55.08.14.168.025.38", "255081416802538"),
    ],
)
def test_valid_nir_is_normalised(value, stored):
    assert nir.validate(value).nir == stored


@pytest.mark.parametrize(
    "value, code",
    [
        ("295109912611199", "key"),  # wrong key
        ("253072B07300443", "key"),  # 2A key on a 2B number
        ("29510991261119", "length"),  # 14 characters
        ("2951099126111930", "length"),  # 16 characters
        ("253072C07300443", "format"),  # only 2A/2B are letters
        ("2951O9912611193", "format"),  # letter O instead of zero
        ("", "required"),
    ],
)
def test_invalid_nir_is_refused_with_a_french_reason(value, code):
    with pytest.raises(ValidationError) as excinfo:
        nir.validate(value)
    assert excinfo.value.code == code
    assert excinfo.value.messages[0][0].isupper()


def _with_key(body: str) -> str:
    numeric = body.replace("2A", "19").replace("2B", "18")
    return f"{body}{97 - int(numeric) % 97:02d}"


def test_sex_digit_must_be_a_known_one():
    with pytest.raises(ValidationError) as excinfo:
        nir.validate(_with_key("5951099126111"))
    assert excinfo.value.code == "sex"


@pytest.mark.parametrize("month", ["00", "13", "19", "45"])
def test_month_must_exist(month):
    with pytest.raises(ValidationError) as excinfo:
        nir.validate(_with_key(f"195{month}99126111"))
    assert excinfo.value.code == "month"


def test_incomplete_civil_record_month_is_accepted_without_month():
    info = nir.validate(_with_key("1953099126111"))
    assert info.month is None
    # Only the year is then compared with the birth date.
    nir.check_birth_date(info, datetime.date(1995, 7, 1))


def test_birth_date_must_agree_with_year_and_month():
    info = nir.validate("295109912611193")  # born October 1995
    nir.check_birth_date(info, datetime.date(1995, 10, 3))
    with pytest.raises(ValidationError) as year:
        nir.check_birth_date(info, datetime.date(1996, 10, 3))
    assert year.value.code == "nir_year"
    with pytest.raises(ValidationError) as month:
        nir.check_birth_date(info, datetime.date(1995, 11, 3))
    assert month.value.code == "nir_month"


def test_factory_helper_builds_valid_numbers_including_corsica():
    assert nir.validate(nir_for(datetime.date(2001, 2, 3), departement="2A")).departement == "2A"
    assert nir.validate(nir_for(datetime.date(1970, 12, 1), sex="2", departement="2B")).month == 12


def test_display_and_mask():
    assert nir.display("295109912611193") == "2 95 10 99 126 111 93"
    masked = nir.masked("295109912611193")
    assert masked.endswith("11 93")
    assert "2951099126" not in masked
