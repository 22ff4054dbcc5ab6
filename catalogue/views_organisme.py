"""« Espace organisme »: the staff's own catalogue. Every object is fetched through a
queryset scoped to ``request.user.organisme``: another organisme's rows answer 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cpf_portal.http import list_links, posted, render_form, table_download
from cpf_portal.money import amount
from equipes.permissions import Right, can, organisme_required

from . import services
from .forms import CatalogueFilterForm, FormationForm, SessionForm
from .models import Formation, Session


def _formations(request):
    return Formation.objects.for_organisme(request.user.organisme)


def _sessions(request):
    return Session.objects.filter(formation__organisme=request.user.organisme)


@organisme_required(Right.CATALOGUE_VOIR)
def formation_list(request):
    form = CatalogueFilterForm(request.GET or None)
    formations = (
        form.filter(_formations(request))
        .select_related("certification")
        .annotate(session_count=Count("sessions", filter=Q(sessions__active=True)))
        .order_by("-active", "intitule", "id")
    )
    page = Paginator(formations, 25).get_page(request.GET.get("page"))
    return render(request, "catalogue/organisme/formation_list.html", {"page": page, "form": form, **list_links(request.GET)})


@organisme_required(Right.CATALOGUE_VOIR)
def sessions_export(request, fmt):
    """Every session of the formations the filters keep, one row each, as CSV or Excel."""
    formations = CatalogueFilterForm(request.GET or None).filter(_formations(request))
    sessions = (
        _sessions(request).filter(formation__in=formations).select_related("formation", "commune").order_by("formation__numero", "start_date", "id")
    )
    header = [
        "formation_numero",
        "formation_intitule",
        "formation_publiee",
        "session_id",
        "debut",
        "fin",
        "entree_permanente",
        "lieu",
        "adresse",
        "prix_ttc",
        "places",
        "session_ouverte",
    ]
    rows = (
        [
            session.formation.numero,
            session.formation.intitule,
            "oui" if session.formation.active else "non",
            str(session.public_id),
            session.start_date.strftime("%d/%m/%Y") if session.start_date else "",
            session.end_date.strftime("%d/%m/%Y") if session.end_date else "",
            "oui" if session.permanent_entry else "non",
            session.place_label,
            session.address,
            amount(session.price_cents),
            session.places,
            "oui" if session.active else "non",
        ]
        for session in sessions.iterator(chunk_size=500)
    )
    return table_download(fmt, f"sessions-{timezone.localdate():%Y-%m-%d}", header, rows)


def _save_formation(request, form):
    try:
        formation = services.formation_save(formation=form.apply(), organisme=request.user.organisme)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        return None
    return formation


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def formation_create(request):
    form = FormationForm(posted(request), organisme=request.user.organisme)
    if request.method == "POST" and form.is_valid():
        formation = _save_formation(request, form)
        if formation is not None:
            messages.success(request, "La formation a été créée. Ajoutez-lui une session pour qu'elle apparaisse dans les recherches.")
            return redirect("catalogue:organisme-formation", public_id=formation.public_id)
    return render_form(request, "catalogue/organisme/formation_form.html", {"form": form, "formation": None}, form)


@organisme_required(Right.CATALOGUE_VOIR, post=Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def formation_edit(request, public_id):
    formation = get_object_or_404(_formations(request).select_related("certification"), public_id=public_id)
    form = FormationForm(posted(request), instance=formation, organisme=request.user.organisme).read_only(not can(request).catalogue_gerer)
    if request.method == "POST" and form.is_valid() and _save_formation(request, form) is not None:
        messages.success(request, "La formation a été enregistrée.")
        return redirect("catalogue:organisme-formation", public_id=formation.public_id)
    sessions = formation.sessions.select_related("commune").order_by("-active", "start_date", "id")
    return render_form(request, "catalogue/organisme/formation_form.html", {"form": form, "formation": formation, "sessions": sessions}, form)


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def formation_toggle(request, public_id):
    formation = get_object_or_404(_formations(request), public_id=public_id)
    publish = request.POST.get("action") == "publier"
    services.formation_set_active(formation=formation, active=publish)
    messages.success(
        request, "La formation est de nouveau publiée." if publish else "La formation est désactivée : elle n'apparaît plus dans les recherches."
    )
    return redirect("catalogue:organisme-formation", public_id=public_id)


def _save_session(request, form, formation):
    try:
        return services.session_save(session=form.apply(), formation=formation)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            target = "lieu" if field == "commune" and "lieu" in form.fields else field
            for message in errors:
                form.add_error(target if target in form.fields else None, message)
        return None


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def session_create(request, public_id):
    formation = get_object_or_404(_formations(request), public_id=public_id)
    form = SessionForm(posted(request), formation=formation)
    if request.method == "POST" and form.is_valid() and _save_session(request, form, formation) is not None:
        messages.success(request, "La session a été créée.")
        return redirect("catalogue:organisme-formation", public_id=formation.public_id)
    return render_form(request, "catalogue/organisme/session_form.html", {"form": form, "formation": formation, "session": None}, form)


@organisme_required(Right.CATALOGUE_VOIR, post=Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def session_edit(request, public_id):
    session = get_object_or_404(_sessions(request).select_related("formation", "commune"), public_id=public_id)
    form = SessionForm(posted(request), instance=session, formation=session.formation).read_only(not can(request).catalogue_gerer)
    if request.method == "POST" and form.is_valid() and _save_session(request, form, session.formation) is not None:
        messages.success(request, "La session a été enregistrée.")
        return redirect("catalogue:organisme-formation", public_id=session.formation.public_id)
    context = {"form": form, "formation": session.formation, "session": session}
    return render_form(request, "catalogue/organisme/session_form.html", context, form)


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def session_toggle(request, public_id):
    session = get_object_or_404(_sessions(request).select_related("formation"), public_id=public_id)
    reopen = request.POST.get("action") == "ouvrir"
    services.session_set_active(session=session, active=reopen)
    messages.success(request, "La session est rouverte." if reopen else "La session est fermée aux inscriptions.")
    return redirect("catalogue:organisme-formation", public_id=session.formation.public_id)
