"""FranceConnect logins: the account an identity belongs to, linked once, or a new account.

A FranceConnect identity (« sub ») is linked to one titulaire's account. At the first login
the account is recognised by the e-mail or the name FranceConnect gives, always together with
the birth date; otherwise the person gives their NIR (« Associer mon compte »): the account
with that NIR is linked if its birth date is FranceConnect's, and when no account has it a new
one is opened with the identity FranceConnect vouched for.
"""

import unicodedata

from django.db import transaction
from django.utils import timezone

from accounts import nir as nir_lib
from accounts.forms import MIN_AGE, age_on
from accounts.models import Role, User
from cpf_portal.errors import UserFacingError

from .client import VerifiedIdentity
from .models import FranceConnectIdentity


class LinkRefused(UserFacingError):
    """The identity cannot be linked to the account asked for; the message goes next to the NIR."""


class AccountUnusable(UserFacingError):
    """The linked account may not log in (suspended, erased, not a titulaire's)."""


NOT_MATCHING = (
    "Ce numéro de sécurité sociale ne correspond pas à l'identité transmise par FranceConnect. "
    "Vérifiez votre saisie, ou contactez l'assistance si le numéro est le bon."
)


def _usable(user: User) -> bool:
    return user.is_active and user.is_titulaire and user.anonymized_at is None


def _plain(value: str) -> str:
    """« Élodie-Anne » and « elodie anne » compare equal."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.replace("-", " ").replace("'", " ").casefold().split())


def _link(*, user: User, identity: VerifiedIdentity) -> FranceConnectIdentity:
    now = timezone.now()
    return FranceConnectIdentity.objects.create(user=user, sub=identity.sub, acr=identity.acr, verified_at=now, last_login_at=now)


def _recognised(identity: VerifiedIdentity) -> User | None:
    """The one unlinked titulaire with FranceConnect's birth date and its e-mail, or else its
    birth name and first given name."""
    candidates = User.objects.titulaires().filter(
        birth_date=identity.birthdate, is_active=True, anonymized_at__isnull=True, franceconnect_identity__isnull=True
    )
    if identity.email:
        by_email = candidates.filter(email__iexact=identity.email).first()
        if by_email is not None:
            return by_email
    family, given = _plain(identity.family_name), _plain(identity.given_name)
    if not family or not given:
        return None
    first_given = given.split(" ")[0]
    same_name = [user for user in candidates if _plain(user.last_name) == family and _plain(user.first_name) in {given, first_given}]
    return same_name[0] if len(same_name) == 1 else None


@transaction.atomic
def identity_login(*, identity: VerifiedIdentity) -> User | None:
    """The account this identity logs into (its link refreshed, or made when the account is
    recognised); None when the person must give their NIR."""
    link = FranceConnectIdentity.objects.select_for_update(of=("self",)).select_related("user").filter(sub=identity.sub).first()
    if link is None:
        user = _recognised(identity)
        if user is None:
            return None
        _link(user=user, identity=identity)
        return user
    if not _usable(link.user):
        raise AccountUnusable("le compte associé à cette identité ne peut pas être utilisé. Contactez l'assistance.")
    link.acr = identity.acr
    link.last_login_at = timezone.now()
    link.save(update_fields=["acr", "last_login_at"])
    return link.user


@transaction.atomic
def identity_link(*, identity: VerifiedIdentity, nir: str) -> User:
    """Link the identity to the account with this NIR, or open a titulaire's account with it
    when there is none. The NIR must agree with FranceConnect's birth date (year and month)."""
    info = nir_lib.validate(nir)
    nir_lib.check_birth_date(info, identity.birthdate)
    if FranceConnectIdentity.objects.filter(sub=identity.sub).exists():
        raise LinkRefused("Cette identité FranceConnect est déjà associée à un compte : reconnectez-vous avec FranceConnect.")
    user = User.objects.select_for_update(of=("self",)).filter(nir=info.nir).first()
    if user is not None:
        linked = FranceConnectIdentity.objects.filter(user=user).exists()
        if linked or not _usable(user) or user.birth_date != identity.birthdate:
            raise LinkRefused(NOT_MATCHING)
        _link(user=user, identity=identity)
        return user
    return _titulaire_create(identity=identity, nir=info.nir)


def _titulaire_create(*, identity: VerifiedIdentity, nir: str) -> User:
    """A titulaire's account from the identity FranceConnect vouched for: activated at once
    (no code to e-mail), no password (« Mot de passe oublié » sets one), CGU accepted on the
    « Associer mon compte » page. Same fields as accounts.services.titulaire_signup."""
    if age_on(identity.birthdate, timezone.localdate()) < MIN_AGE:
        raise LinkRefused(
            f"Il faut avoir au moins {MIN_AGE} ans pour ouvrir un compte avec FranceConnect. Avec un contrat "
            "d'apprentissage, créez votre compte avec le formulaire « Je crée mon compte »."
        )
    if not identity.email:
        raise LinkRefused("FranceConnect n'a pas transmis d'adresse électronique : créez votre compte avec le formulaire « Je crée mon compte ».")
    if User.objects.filter(email__iexact=identity.email).exists():
        raise LinkRefused(
            "L'adresse électronique transmise par FranceConnect est déjà celle d'un autre compte : "
            "connectez-vous avec votre mot de passe, ou contactez l'assistance."
        )
    now = timezone.now()
    user = User.objects.create_user(
        email=identity.email,
        password=None,
        role=Role.TITULAIRE,
        nir=nir,
        first_name=identity.given_name[:100],
        last_name=identity.family_name[:100],
        birth_date=identity.birthdate,
        cgu_accepted_at=now,
        activated_at=now,
    )
    _link(user=user, identity=identity)
    return user
