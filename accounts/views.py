from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken

from cpf_portal.http import FormInvalid400Mixin, posted, render_form, safe_local_url

from . import forms, services, two_factor
from .models import Role, User
from .permissions import titulaire_required

ACTIVATION_SESSION_KEY = "activation_user_id"
DECOY_SESSION_KEY = "activation_decoy"


def home_url_for(user) -> str:
    """Where a person lands after login, by role."""
    if user.role == Role.ORGANISME:
        return reverse("dossiers:organisme-home")
    if user.role == Role.CONSEILLER:
        return reverse("interlocuteurs:conseiller-home")
    if user.is_staff and user.role == Role.OPERATEUR:
        return reverse("admin:index")
    return reverse("accounts:home")


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(2, len(local) - 1)}@{domain}"


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(home_url_for(request.user))
    form = forms.SignupForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.titulaire_signup(
            nir=data["nir"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            birth_date=data["birth_date"],
            email=data["email"],
            password=data["password"],
            apprenticeship_contract=data["apprenticeship_contract"],
        )
        if user is None:  # an account exists: same next page, no code will ever match
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            request.session[DECOY_SESSION_KEY] = {"email": data["email"], "attempts": 0}
        else:
            request.session.pop(DECOY_SESSION_KEY, None)
            request.session[ACTIVATION_SESSION_KEY] = user.pk
        return redirect("accounts:activate")
    return render_form(request, "accounts/signup.html", {"form": form}, form)


def _decoy_activate(request, decoy: dict):
    """The activation page after a signup with an NIR or e-mail that has an account: it looks
    and answers like the real one (wrong codes counted the same way), activates nothing."""
    if request.method == "POST" and "resend" in request.POST:
        decoy["attempts"] = 0
        request.session[DECOY_SESSION_KEY] = decoy
        messages.success(request, f"Un nouveau code a été envoyé à {mask_email(decoy['email'])}.")
        return redirect("accounts:activate")
    form = forms.ActivationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        decoy["attempts"] = min(decoy["attempts"] + 1, settings.CPF_ACTIVATION_MAX_ATTEMPTS)
        request.session[DECOY_SESSION_KEY] = decoy
        form.add_error("code", str(services.wrong_code(decoy["attempts"])))
    context = {"form": form, "masked_email": mask_email(decoy["email"]), "ttl": settings.CPF_ACTIVATION_CODE_TTL_MINUTES}
    return render_form(request, "accounts/activate.html", context, form)


@require_http_methods(["GET", "POST"])
def activate(request):
    if decoy := request.session.get(DECOY_SESSION_KEY):
        return _decoy_activate(request, decoy)
    user_id = request.session.get(ACTIVATION_SESSION_KEY)
    if not user_id:
        messages.info(request, "Connectez-vous avec votre identifiant et votre mot de passe pour activer votre compte.")
        return redirect("accounts:login")
    user = get_object_or_404(User, pk=user_id)
    if user.is_activated:
        request.session.pop(ACTIVATION_SESSION_KEY, None)
        messages.info(request, "Votre compte est déjà activé. Vous pouvez vous connecter.")
        return redirect("accounts:login")

    if request.method == "POST" and "resend" in request.POST:
        try:
            services.activation_code_send(user=user)
        except services.ResendRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"Un nouveau code a été envoyé à {mask_email(user.email)}.")
        return redirect("accounts:activate")

    form = forms.ActivationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.activation_code_check(user=user, code=form.cleaned_data["code"])
        except services.ActivationError as error:
            form.add_error("code", str(error))
        else:
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            messages.success(request, "Votre compte est activé. Vous pouvez maintenant vous connecter.")
            return redirect("accounts:login")
    context = {"form": form, "masked_email": mask_email(user.email), "ttl": settings.CPF_ACTIVATION_CODE_TTL_MINUTES}
    return render_form(request, "accounts/activate.html", context, form)


class LoginView(auth_views.LoginView):
    form_class = forms.LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        not_activated = form.has_error("__all__", "not_activated")
        if not_activated and form.get_user() is not None:
            self.request.session.pop(DECOY_SESSION_KEY, None)
            self.request.session[ACTIVATION_SESSION_KEY] = form.get_user().pk
        response = self.render_to_response(self.get_context_data(form=form, not_activated=not_activated))
        response.status_code = 400
        return response

    def get_default_redirect_url(self):
        return home_url_for(self.request.user)

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return url if url and url_has_allowed_host_and_scheme(url, {self.request.get_host()}) else ""


RECOVERY_SESSION_KEY = "recovery_codes"


def _next_or_home(request) -> str:
    return safe_local_url(request, request.POST.get("next") or request.GET.get("next", "")) or home_url_for(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """First login of a staff account: scan the QR code, type the first code, note the
    recovery codes."""
    if not two_factor.needs_second_factor(request.user) or two_factor.confirmed_app(request.user):
        return redirect(_next_or_home(request))
    device = two_factor.pending_app(request.user)
    form = forms.OtpCodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        codes, refusal = two_factor.enrol(request, device, form.cleaned_data["code"])
        if not refusal:
            request.session[RECOVERY_SESSION_KEY] = codes
            return redirect(f"{reverse('accounts:two-factor-codes')}?{urlencode({'next': _next_or_home(request)})}")
        form.add_error("code", refusal)
    context = {"form": form, "qr_svg": two_factor.qr_svg(device), "secret": two_factor.secret_of(device), "next": _next_or_home(request)}
    return render_form(request, "accounts/two_factor_setup.html", context, form)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if not two_factor.needs_second_factor(request.user) or request.user.is_verified():
        return redirect(_next_or_home(request))
    if two_factor.confirmed_app(request.user) is None:
        return redirect(f"{reverse('accounts:two-factor-setup')}?{urlencode({'next': _next_or_home(request)})}")
    form = forms.OtpCodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        device, refusal = two_factor.check_code(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_or_home(request))
        form.add_error("code", refusal)
    return render_form(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_or_home(request)}, form)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_codes(request):
    """The recovery codes just made (shown once), and a button to make new ones."""
    if not two_factor.needs_second_factor(request.user):
        return redirect(home_url_for(request.user))
    if request.method == "POST":
        request.session[RECOVERY_SESSION_KEY] = two_factor.recovery_codes_new(request.user)
        messages.success(request, "Vos nouveaux codes de secours remplacent les anciens.")
        return redirect("accounts:two-factor-codes")
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    remaining = StaticToken.objects.filter(device__user=request.user).count()
    context = {"codes": codes, "remaining": remaining, "next": _next_or_home(request), "app": two_factor.confirmed_app(request.user)}
    return render(request, "accounts/two_factor_codes.html", context)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "Vous êtes déconnecté.")
        # The identity provider the person logged in through (FranceConnect) sets this while the
        # session ends (user_logged_out): its own logout, which comes back to the home page.
        end_session_url = getattr(request, "end_session_url", None)
        return redirect(end_session_url) if end_session_url else response


def lockout(request, credentials=None, *args, **kwargs):
    """django-axes: too many failed logins for this identifier from this address."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)


class PasswordResetView(FormInvalid400Mixin, auth_views.PasswordResetView):
    form_class = forms.PasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            allowed = services.password_reset_throttle(email=form.cleaned_data["email"], client_ip=get_client_ip_address(self.request) or "")
        except services.RateLimited as refusal:
            form.add_error("email", str(refusal))
            response = self.form_invalid(form)
            response.status_code = refusal.status_code
            return response
        if not allowed:  # throttled per address: the same « e-mail sent » page, without the e-mail
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(FormInvalid400Mixin, auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(FormInvalid400Mixin, auth_views.PasswordChangeView):
    form_class = forms.PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Votre mot de passe a été modifié.")
        return response


@login_required
def account_home(request):
    if not request.user.is_titulaire:
        return redirect(home_url_for(request.user))
    return render(request, "accounts/home.html")


@titulaire_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    data = posted(request)
    pro_form = forms.ProfessionalInfoForm(data, instance=user, prefix="pro")
    perso_form = forms.PersonalInfoForm(data, instance=user, prefix="perso")
    if request.method == "POST" and all([pro_form.is_valid(), perso_form.is_valid()]):
        services.profile_update(user=user, data={**pro_form.cleaned_data, **perso_form.profile_data()})
        messages.success(request, "Vos informations ont été enregistrées.")
        return redirect("accounts:profile")
    if request.method == "POST":
        user.refresh_from_db()  # the forms wrote their values on the instance; the header shows the saved ones
    context = {"pro_form": pro_form, "perso_form": perso_form}
    return render_form(request, "accounts/profile.html", context, pro_form, perso_form)


@require_http_methods(["GET", "POST"])
def contact(request):
    user = request.user if request.user.is_authenticated else None
    initial = {"name": user.full_name, "email": user.email} if user else {}
    form = forms.ContactForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Over the hourly limit: the middleware shows this page again with the message (429).
        request.error_page = lambda status: render(request, "accounts/contact.html", {"form": form}, status=status)
        contact_request = services.contact_request_create(
            user=user,
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            message=data["message"],
            dossier_numero=data["dossier_numero"],
            client_ip=get_client_ip_address(request) or "",
        )
        messages.success(
            request, f"Votre demande est envoyée (référence {contact_request.reference}). Un accusé de réception vous a été adressé par courriel."
        )
        return redirect("accounts:contact")
    return render_form(request, "accounts/contact.html", {"form": form}, form)
