"""NIR (numéro de sécurité sociale): normalisation, validation and what it encodes.

python-stdnum checks the format (Corsica 2A/2B included), the length and the key; it does
not look at the sex digit or the month, so those rules are added here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.fr import nir as stdnum_nir

# 1 man, 2 woman; 3/4 and 7/8 are given to people born abroad while their file is being
# registered (temporary numbers) and are still valid CPF identifiers.
SEX_DIGITS = frozenset("123478")


@dataclass(frozen=True)
class NirInfo:
    nir: str
    sex: str
    year_2digits: int
    month: int | None  # None when the civil record has no month (20–42, 50+ codes)
    departement: str


def compact(value: str) -> str:
    """The stored form: spaces and dots removed, upper case (2a → 2A)."""
    return stdnum_nir.compact(value or "")


def display(value: str) -> str:
    """``2 95 10 99 126 111 93``."""
    return stdnum_nir.format(value)


def masked(value: str | None) -> str:
    """Only the last digits, for lists: ``••••••••••• 11 93``."""
    if not value:
        return ""
    return "•" * 11 + f" {value[-4:-2]} {value[-2:]}"


def validate(value: str) -> NirInfo:
    """Return what the NIR encodes, or raise a ValidationError with a French message."""
    number = compact(value)
    if not number:
        raise ValidationError("Saisissez votre numéro de sécurité sociale.", code="required")
    try:
        number = stdnum_nir.validate(number)
    except stdnum_exceptions.InvalidLength:
        raise ValidationError(
            "Le numéro de sécurité sociale compte 15 caractères : 13 caractères et la clé à 2 chiffres (vous en avez saisi %(count)s).",
            code="length",
            params={"count": len(number)},
        ) from None
    except stdnum_exceptions.InvalidFormat:
        raise ValidationError(
            "Le numéro de sécurité sociale ne contient que des chiffres (et 2A ou 2B pour un département corse).",
            code="format",
        ) from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(
            "La clé (les 2 derniers chiffres) ne correspond pas au numéro de sécurité sociale : vérifiez votre saisie.",
            code="key",
        ) from None
    if number[0] not in SEX_DIGITS:
        raise ValidationError("Le premier chiffre du numéro de sécurité sociale doit être 1 ou 2.", code="sex")
    month = int(number[3:5])
    if month == 0 or 13 <= month <= 19 or 43 <= month <= 49:
        raise ValidationError("Le mois de naissance (4e et 5e chiffres) du numéro de sécurité sociale n'existe pas.", code="month")
    return NirInfo(
        nir=number,
        sex=number[0],
        year_2digits=int(number[1:3]),
        month=month if month <= 12 else None,
        departement=number[5:7],
    )


def check_birth_date(info: NirInfo, birth_date: datetime.date) -> None:
    """The birth date must agree with the year and month the NIR encodes."""
    if birth_date.year % 100 != info.year_2digits:
        raise ValidationError(
            "L'année de naissance ne correspond pas à votre numéro de sécurité sociale (2e et 3e chiffres : %(yy)s).",
            code="nir_year",
            params={"yy": f"{info.year_2digits:02d}"},
        )
    if info.month is not None and birth_date.month != info.month:
        raise ValidationError(
            "Le mois de naissance ne correspond pas à votre numéro de sécurité sociale (4e et 5e chiffres : %(mm)s).",
            code="nir_month",
            params={"mm": f"{info.month:02d}"},
        )
