"""Login by NIR *or* e-mail address, with the password."""

from django.contrib.auth.backends import ModelBackend

from . import nir as nir_lib
from .models import User


def normalize_identifier(identifier: str) -> str:
    """An e-mail is lower-cased; anything else is read as a NIR (spaces and dots removed)."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return identifier.lower()
    return nir_lib.compact(identifier)


def axes_username(request, credentials) -> str:
    """django-axes counts failures per normalised identifier, so « 2 95 10 … » and
    « 29510… » are the same login."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize_identifier(raw)


class NirOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        identifier = normalize_identifier(username)
        lookup = {"email__iexact": identifier} if "@" in identifier else {"nir": identifier}
        try:
            user = User.objects.get(**lookup)
        except User.DoesNotExist:
            # Same cost as a real check, so timing does not tell which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
