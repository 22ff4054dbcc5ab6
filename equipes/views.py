"""« Mon équipe » in « Espace organisme », the invitation link, and the choice of organisme
for a person in several teams."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.two_factor import enrolled_users
from cpf_portal.http import posted, render_form

from . import services
from .forms import AccountForm, InviteForm, RolesForm
from .models import Invitation, Membership, TeamEvent
from .permissions import Right, current_membership, organisme_required

EVENTS_SHOWN = 50


def _team_page(request, invite_form=None, status=200):
    organisme = request.user.organisme
    members = list(Membership.objects.filter(organisme=organisme).select_related("user").order_by("user__last_name", "user__first_name", "id"))
    context = {
        "organisme": organisme,
        "members": members,
        "enrolled": enrolled_users([member.user_id for member in members]),
        "invitations": [
            invitation
            for invitation in Invitation.objects.filter(organisme=organisme, accepted_at__isnull=True, revoked_at__isnull=True)
            if invitation.is_pending()
        ],
        "events": TeamEvent.objects.filter(organisme=organisme).select_related("actor")[:EVENTS_SHOWN],
        "invite_form": invite_form or InviteForm(),
        "me": current_membership(request),
    }
    return render(request, "equipes/team.html", context, status=status)


@organisme_required(Right.EQUIPE_VOIR)
def team(request):
    return _team_page(request)


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        request.error_page = lambda status: _team_page(request, form, status)
        invitation, _ = services.invite(organisme=request.user.organisme, by=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"L'invitation est envoyée à {invitation.email}. Le lien est valable jusqu'au {timezone.localtime(invitation.expires_at):%d/%m/%Y}.",
        )
        return redirect("equipes:team")
    return _team_page(request, form, status=400)


def _member(request, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), organisme_id=request.user.organisme_id, pk=pk)


@organisme_required(Right.EQUIPE_GERER)
@require_http_methods(["GET", "POST"])
def member_edit(request, pk):
    membership = _member(request, pk)
    form = RolesForm(posted(request), initial={"roles": membership.roles})
    if request.method == "POST" and form.is_valid():
        request.error_page = lambda status: render(request, "equipes/member_edit.html", {"membership": membership, "form": form}, status=status)
        services.roles_change(membership=membership, roles=form.cleaned_data["roles"], by=request.user)
        messages.success(request, f"Les rôles de {membership.user.full_name or membership.user.email} sont modifiés.")
        return redirect("equipes:team")
    return render_form(request, "equipes/member_edit.html", {"membership": membership, "form": form}, form)


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def member_remove(request, pk):
    membership = _member(request, pk)
    request.error_page = lambda status: _team_page(request, status=status)
    services.member_remove(membership=membership, by=request.user)
    if membership.user_id == request.user.pk:
        messages.success(request, "Vous avez quitté l'équipe de cet organisme.")
        return redirect("equipes:switch")
    messages.success(request, f"L'accès de {membership.user.full_name or membership.user.email} est retiré.")
    return redirect("equipes:team")


@organisme_required(Right.EQUIPE_VOIR)
@require_POST
def leave(request):
    request.error_page = lambda status: _team_page(request, status=status)
    services.member_remove(membership=current_membership(request), by=request.user)
    messages.success(request, "Vous avez quitté l'équipe de cet organisme.")
    return redirect("equipes:switch")


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def invitation_revoke(request, pk):
    invitation = get_object_or_404(Invitation, organisme_id=request.user.organisme_id, pk=pk)
    services.invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, f"L'invitation envoyée à {invitation.email} est annulée.")
    return redirect("equipes:team")


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The link of the e-mail: accept with the account of that address (logged in), or
    create it; anything else is refused with the reason."""
    try:
        invitation = services.invitation_for(token)
    except services.InvitationInvalid as invalid:
        return render(request, "equipes/invitation.html", {"invalid": invalid.message}, status=invalid.status_code)
    user = request.user if request.user.is_authenticated else None
    refusal = services.account_refusal(invitation, user) if user else ""
    has_account = user is None and services.account_exists(invitation)
    form = None if user or has_account else AccountForm(posted(request), email=invitation.email)
    context = {"invitation": invitation, "refusal": refusal, "has_account": has_account, "form": form}
    if refusal:
        return render(request, "equipes/invitation.html", context, status=403)
    if request.method == "POST" and not has_account:
        if user is not None:
            services.invitation_accept(token=token, user=user)
        elif form.is_valid():
            data = form.cleaned_data
            user = services.invitation_accept(token=token, first_name=data["first_name"], last_name=data["last_name"], password=data["password"])
            login(request, user, backend="accounts.backends.NirOrEmailBackend")
        else:
            return render_form(request, "equipes/invitation.html", context, form)
        messages.success(request, f"Bienvenue dans l'équipe de {invitation.organisme.raison_sociale}.")
        return redirect("dossiers:organisme-home")
    return render(request, "equipes/invitation.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def switch(request):
    """« Mes organismes »: the teams the person belongs to; choosing one makes it current."""
    if request.user.role != Role.ORGANISME:
        raise PermissionDenied("Cette page n'est pas accessible avec votre compte.")
    if request.method == "POST":
        membership = services.organisme_switch(user=request.user, organisme_id=_int(request.POST.get("organisme")))
        messages.success(request, f"Vous travaillez maintenant pour {membership.organisme.raison_sociale}.")
        return redirect("dossiers:organisme-home")
    memberships = Membership.objects.filter(user=request.user).select_related("organisme").order_by("organisme__raison_sociale")
    return render(request, "equipes/switch.html", {"memberships": memberships})


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
