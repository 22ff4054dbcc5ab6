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
    """django-axes counts failures per account, whichever identifier is typed: the NIR and
    the e-mail of one account share one counter (« compte:<id> »). An identifier of no
    account is counted as typed, normalised (« 2 95 10 … » and « 29510… » are one)."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    identifier = normalize_identifier(raw)
    account = User.objects.filter(**_lookup(identifier)).values_list("pk", flat=True).first() if identifier else None
    return f"compte:{account}" if account else identifier


def _lookup(identifier: str) -> dict:
    return {"email__iexact": identifier} if "@" in identifier else {"nir": identifier}


class NirOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        identifier = normalize_identifier(username)
        try:
            user = User.objects.get(**_lookup(identifier))
        except User.DoesNotExist:
            # Same cost as a real check, so timing does not tell which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
