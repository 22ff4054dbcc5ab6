import datetime

import factory
from django.utils import timezone

from accounts.models import Role, User


def nir_for(birth_date: datetime.date, *, sex: str = "1", departement: str = "57", commune: str = "463", order: int = 1) -> str:
    """A valid NIR whose year and month agree with ``birth_date`` (key computed as INSEE does,
    with 2A/2B replaced by 19/18)."""
    body = f"{sex}{birth_date.year % 100:02d}{birth_date.month:02d}{departement}{commune}{order:03d}"
    numeric = body.replace("2A", "19").replace("2B", "18")
    return f"{body}{97 - int(numeric) % 97:02d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    activated_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "Formation2020")
        if create:
            self.save(update_fields=["password"])


class TitulaireFactory(UserFactory):
    role = Role.TITULAIRE
    birth_date = datetime.date(1990, 5, 17)
    nir = factory.Sequence(lambda n: nir_for(datetime.date(1990, 5, 17), order=n % 999 + 1, commune=f"{n // 999 % 999 + 1:03d}"))
    cgu_accepted_at = factory.LazyFunction(timezone.now)


class OrganismeStaffFactory(UserFactory):
    """A member of its organisme's team; ``roles`` (default: Responsable des accès and
    Gestionnaire, every right) or ``roles=[]`` for an account outside any team."""

    role = Role.ORGANISME
    organisme = factory.SubFactory("catalogue.tests.factories.OrganismeFactory")
    first_name = "Dominique"

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        from equipes.models import Membership, TeamRole

        roles = [TeamRole.RESPONSABLE, TeamRole.GESTIONNAIRE] if extracted is None else extracted
        if create and roles:
            Membership.objects.create(user=self, organisme=self.organisme, roles=roles)


class OperatorFactory(UserFactory):
    role = Role.OPERATEUR
    is_staff = True
    is_superuser = True
    first_name = "Alex"


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Structure"

    type = "france_travail"
    name = factory.Sequence(lambda n: f"France Travail Agence {n}")
    address = "1 rue de l'Emploi"
    postal_code = "57000"
    city = "Metz"
    departement = "57"
    phone = "0387000000"
    email = factory.Sequence(lambda n: f"agence{n}@structure.example")


class ConseillerFactory(UserFactory):
    role = Role.CONSEILLER
    structure = factory.SubFactory(StructureFactory)
    first_name = "Sacha"


def totp_code(device) -> str:
    """The code the authenticator app shows for ``device`` now, or the next one when the
    current was already used (django-otp refuses a code twice; its tolerance accepts the next)."""
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    drift = max(0, device.last_t + 1 - totp.t()) if device.last_t >= 0 else 0
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + drift).token():0{device.digits}d}"
