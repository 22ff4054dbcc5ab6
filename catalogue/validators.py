from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.fr import siret as stdnum_siret


def normalize_siret(value: str) -> str:
    return stdnum_siret.compact(value or "")


def validate_siret(value: str) -> None:
    try:
        stdnum_siret.validate(value)
    except stdnum_exceptions.InvalidLength:
        raise ValidationError("Le SIRET compte 14 chiffres.", code="siret_length") from None
    except stdnum_exceptions.InvalidFormat:
        raise ValidationError("Le SIRET ne contient que des chiffres.", code="siret_format") from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError("Ce numéro SIRET n'est pas valide (clé de contrôle).", code="siret_checksum") from None


def validate_nda(value: str) -> None:
    """Numéro de déclaration d'activité: 11 digits (2 of the région, 2 of the département, …)."""
    if not (value.isdigit() and len(value) == 11):
        raise ValidationError("Le numéro de déclaration d'activité compte 11 chiffres.", code="nda")
