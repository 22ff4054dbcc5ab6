"""French phone numbers: accept the usual ways of typing them, store ten digits."""

import re

from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s.\-()]")
MOBILE = re.compile(r"^0[67]\d{8}$")
LANDLINE = re.compile(r"^0[1-59]\d{8}$")


def normalize(value: str) -> str:
    """``+33 6 12 34 56 78`` / ``06.12.34.56.78`` → ``0612345678`` (unchanged if not a phone)."""
    number = _SEPARATORS.sub("", value or "")
    if number.startswith("+33"):
        number = "0" + number[3:]
    elif number.startswith("0033"):
        number = "0" + number[4:]
    return number


def display(value: str) -> str:
    return " ".join(value[i : i + 2] for i in range(0, len(value), 2)) if value else ""


def validate_mobile(value: str) -> None:
    if not MOBILE.match(value):
        raise ValidationError(
            "Saisissez un numéro de téléphone mobile français à 10 chiffres commençant par 06 ou 07 (par exemple 06 12 34 56 78).",
            code="mobile",
        )


def validate_landline(value: str) -> None:
    if not LANDLINE.match(value):
        raise ValidationError(
            "Saisissez un numéro de téléphone fixe français à 10 chiffres commençant par 01 à 05 ou 09 (par exemple 01 23 45 67 89).",
            code="landline",
        )


def validate_any(value: str) -> None:
    if not (MOBILE.match(value) or LANDLINE.match(value)):
        raise ValidationError(
            "Saisissez un numéro de téléphone français à 10 chiffres (par exemple 03 87 12 34 56).",
            code="phone",
        )
