import functools
import time

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.views import home_url_for
from cpf_portal.http import posted, render_form, safe_local_url
from securite import services as strong

from . import client, services
from .forms import LinkForm
from .sessions import ID_TOKEN_KEY, NEXT_KEY, PENDING_KEY, PENDING_MAX_AGE_SECONDS

BACKEND = "accounts.backends.NirOrEmailBackend"


def franceconnect_enabled(view):
    """404 for every FranceConnect URL while FranceConnect is not configured."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not client.enabled():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _failed(request, reason: str):
    """Back to the login page, saying why."""
    messages.error(
        request,
        f"La connexion avec FranceConnect a échoué : {reason} Réessayez ou connectez-vous avec votre mot de passe.",
    )
    return redirect("accounts:login")


def _logged_in(request, user, identity: client.VerifiedIdentity):
    next_url = request.session.pop(NEXT_KEY, "")
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=BACKEND)
    request.session[ID_TOKEN_KEY] = identity.id_token
    # A FranceConnect+ login (eIDAS substantiel or élevé) confirms purchases for a while.
    request.session[strong.FC_ACR_SESSION_KEY] = identity.acr
    request.session[strong.FC_AT_SESSION_KEY] = timezone.now().isoformat()
    return redirect(safe_local_url(request, next_url) or home_url_for(user))


# The provider is called over HTTP: outside the request's transaction; services open their own.
@transaction.non_atomic_requests
@franceconnect_enabled
@require_POST
def login_start(request):
    """« S'identifier avec FranceConnect »: off to the provider."""
    if request.user.is_authenticated:
        return redirect(home_url_for(request.user))
    request.session[NEXT_KEY] = safe_local_url(request, request.POST.get("next", ""))
    try:
        return client.authorize_redirect(request, request.build_absolute_uri(reverse("franceconnect:callback")))
    except client.LoginFailed as failure:
        return _failed(request, failure.reason)


@transaction.non_atomic_requests
@franceconnect_enabled
@require_GET
def callback(request):
    """The way back from FranceConnect: the identity checked, then the account logged in, or
    « Associer mon compte » at the first login."""
    try:
        identity = client.identity_from_callback(request)
        user = services.identity_login(identity=identity)
    except client.LoginFailed as failure:
        return _failed(request, failure.reason)
    except services.AccountUnusable as refusal:
        return _failed(request, refusal.message)
    if user is not None:
        return _logged_in(request, user, identity)
    request.session[PENDING_KEY] = {"identity": identity.to_session(), "at": time.time()}
    return redirect("franceconnect:link")


@franceconnect_enabled
@require_http_methods(["GET", "POST"])
def link_account(request):
    """« Associer mon compte »: first FranceConnect login of someone the site does not recognise."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Identifiez-vous d'abord avec FranceConnect, ou connectez-vous avec votre mot de passe.")
        return redirect("accounts:login")
    identity = client.VerifiedIdentity.from_session(pending["identity"])
    form = LinkForm(posted(request), birthdate=identity.birthdate)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.identity_link(identity=identity, nir=form.cleaned_data["nir"])
        except services.LinkRefused as refusal:
            form.add_error("nir", refusal.message)
        except ValidationError as error:
            form.add_error("nir", error)
        else:
            return _logged_in(request, user, identity)
    return render_form(request, "franceconnect/link.html", {"form": form, "identity": identity}, form)
