import factory

from catalogue.models import Organisme


def luhn_complete(body: str) -> str:
    """Append the Luhn digit that makes ``body`` + digit valid (SIRET/SIREN key)."""
    for digit in "0123456789":
        candidate = body + digit
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def siret_for(n: int) -> str:
    """A valid, fictional SIRET: the SIREN and the establishment number both pass Luhn."""
    siren = luhn_complete(f"9{n:07d}")
    return luhn_complete(f"{siren}0001")


class OrganismeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisme

    raison_sociale = factory.Sequence(lambda n: f"Organisme de formation {n}")
    siret = factory.Sequence(siret_for)
    nda = factory.Sequence(lambda n: f"{44000000000 + n:011d}")
    address = "18 Rue des Feivres"
    postal_code = "57070"
    city = "Metz"
    phone = "0387123456"
    email = factory.Sequence(lambda n: f"contact{n}@organisme.example")
