"""« Mon compte » → « Sécurité » (TOTP app, passkeys, recent logins) and the strong
confirmation of a purchase on a dossier's acceptance page."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import two_factor
from accounts.forms import OtpCodeForm
from accounts.permissions import titulaire_required
from cpf_portal.http import posted, render_form
from dossiers.models import Dossier
from dossiers.states import Status

from . import services
from .forms import PasskeyNameForm
from .models import Passkey


@titulaire_required
@require_GET
def security(request):
    context = {
        "totp": two_factor.confirmed_app(request.user),
        "passkeys": request.user.passkeys.all(),
        "logins": services.recent_logins(request.user),
        "name_form": PasskeyNameForm(),
    }
    return render(request, "securite/security.html", context)


@titulaire_required
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    """Add an authenticator app: scan, type its first code; its recovery codes shown once."""
    if two_factor.confirmed_app(request.user):
        return redirect("securite:security")
    device = two_factor.pending_app(request.user)
    form = OtpCodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        codes, refusal = two_factor.enrol(request, device, form.cleaned_data["code"])
        if not refusal:
            messages.success(request, "Votre application d'authentification est enregistrée.")
            return render(request, "securite/totp_codes.html", {"codes": codes})
        form.add_error("code", refusal)
    context = {"form": form, "qr_svg": two_factor.qr_svg(device), "secret": two_factor.secret_of(device)}
    return render_form(request, "securite/totp_setup.html", context, form)


@titulaire_required
@require_POST
def totp_remove(request):
    two_factor.remove_all(request.user)
    messages.success(request, "Votre application d'authentification est retirée de votre compte.")
    return redirect("securite:security")


@titulaire_required
@require_POST
def passkey_options(request):
    return JsonResponse({"publicKey": _json(services.passkey_registration_options(request))})


@titulaire_required
@require_POST
def passkey_register(request):
    data = services.parse_json(request.body)
    try:
        passkey = services.passkey_register(request, credential=data.get("credential") or {}, name=str(data.get("name", "")))
    except services.ConfirmationError as error:
        return JsonResponse({"error": error.message}, status=400)
    messages.success(request, f"Votre clé d'accès « {passkey.name} » est enregistrée.")
    return JsonResponse({"redirect": reverse("securite:security")})


@titulaire_required
@require_POST
def passkey_remove(request, pk):
    passkey = get_object_or_404(Passkey, pk=pk, user=request.user)
    passkey.delete()
    messages.success(request, f"La clé d'accès « {passkey.name} » est retirée de votre compte.")
    return redirect("securite:security")


def _json(options_json: str):
    return json.loads(options_json)


# --- Confirming a purchase ------------------------------------------------------------------------


def _proposal(request, numero) -> Dossier:
    """The titulaire's own proposal (another's dossier, or one not to accept, is 404)."""
    return get_object_or_404(Dossier.objects.for_titulaire(request.user), numero=numero, status=Status.PROPOSED)


def _back(numero):
    return redirect("dossiers:accept", numero=numero)


def _refused(request, numero, error, field: str):
    """Back to the acceptance page with the factor's refusal next to its field."""
    from dossiers.views.titulaire import accept_page

    return accept_page(request, numero, confirmation_errors={field: error.message}, status=400)


def _confirm_step(request, numero, method: str, step, success: str):
    """One step of a confirmation by code on the acceptance page: ``step(dossier)`` with the
    factor ``method`` (which the settings must accept), then back to the page, or its refusal
    next to the factor's field."""
    dossier = _proposal(request, numero)
    try:
        if not getattr(services.factors_for(request), method):
            raise services.ConfirmationError("Ce moyen n'est pas accepté pour confirmer un achat.")
        step(dossier)
    except services.ConfirmationError as error:
        return _refused(request, numero, error, method)
    messages.success(request, success)
    return _back(numero)


def _totp_code(request) -> str:
    form = OtpCodeForm(request.POST)
    if not form.is_valid():
        raise services.ConfirmationError(form.errors["code"][0])
    return form.cleaned_data["code"]


@titulaire_required
@require_POST
def confirm_totp(request, numero):
    def step(dossier):
        services.totp_confirm(user=request.user, purpose=services.purpose_of(dossier), code=_totp_code(request))

    return _confirm_step(request, numero, "totp", step, "Votre identité est confirmée.")


@titulaire_required
@require_POST
def confirm_email_send(request, numero):
    def step(dossier):
        services.email_code_send(user=request.user, purpose=services.purpose_of(dossier))

    return _confirm_step(request, numero, "email", step, "Un code à 6 chiffres vient de vous être envoyé par courriel.")


@titulaire_required
@require_POST
def confirm_email(request, numero):
    def step(dossier):
        services.email_code_confirm(user=request.user, purpose=services.purpose_of(dossier), code=request.POST.get("email_code", ""))

    return _confirm_step(request, numero, "email", step, "Votre identité est confirmée.")


@titulaire_required
@require_POST
def confirm_passkey_options(request, numero):
    _proposal(request, numero)
    return JsonResponse({"publicKey": _json(services.passkey_authentication_options(request))})


@titulaire_required
@require_POST
def confirm_passkey(request, numero):
    dossier = _proposal(request, numero)
    data = services.parse_json(request.body)
    try:
        services.passkey_confirm(request, credential=data.get("credential") or {}, purpose=services.purpose_of(dossier))
    except services.ConfirmationError as error:
        return JsonResponse({"error": error.message}, status=400)
    messages.success(request, "Votre identité est confirmée.")
    return JsonResponse({"redirect": reverse("dossiers:accept", args=[numero])})


# --- « Ce n'est pas moi » -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def not_me(request, token):
    """The link of the purchase e-mail: no login needed (the signed link is the proof); a
    confirmation page first, then the freeze."""
    try:
        dossier = services.not_me_dossier(token)
    except services.ConfirmationError as error:  # a link that leads nowhere: 404, with why
        return render(request, "securite/not_me.html", {"error": error.message}, status=404)
    if request.method == "POST":
        freeze, cancelled = services.not_me(token=token)
        return render(request, "securite/not_me_done.html", {"freeze": freeze, "cancelled": cancelled, "refusal": services.frozen_refusal(freeze)})
    return render(request, "securite/not_me.html", {"dossier": dossier, "error": ""})
