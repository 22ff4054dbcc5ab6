"""« Importer un catalogue » in « Espace organisme »: upload, the full check's report, the
confirmation, the progress (polled by the page) and the final report."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cpf_portal.http import posted, render_form, table_download
from equipes.permissions import Right, organisme_required

from . import offer_import
from .forms import OfferImportForm
from .models import OfferImport

SHOWN_PROBLEMS = 200


def _import(request, public_id) -> OfferImport:
    return get_object_or_404(OfferImport.objects.defer("rows"), organisme_id=request.user.organisme_id, public_id=public_id)


@organisme_required(Right.CATALOGUE_GERER)
@require_http_methods(["GET", "POST"])
def start(request):
    form = OfferImportForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            checked = offer_import.check_upload(organisme=request.user.organisme, upload=form.cleaned_data["file"], by=request.user)
        except offer_import.FileRefused as refused:
            form.add_error("file", refused.message)
        else:
            return redirect("catalogue:organisme-import", public_id=checked.public_id)
    recent = OfferImport.objects.filter(organisme_id=request.user.organisme_id).defer("rows", "rejected")[:10]
    context = {"form": form, "recent": recent, "columns": offer_import.COLUMNS, "max_mb": settings.CPF_OFFER_IMPORT_MAX_BYTES // 1_000_000}
    return render_form(request, "catalogue/organisme/import_start.html", context, form)


@organisme_required(Right.CATALOGUE_VOIR)
def detail(request, public_id):
    checked = _import(request, public_id)
    context = {"import": checked, "problems": checked.rejected[:SHOWN_PROBLEMS], "more_problems": max(0, len(checked.rejected) - SHOWN_PROBLEMS)}
    return render(request, "catalogue/organisme/import_detail.html", context)


@organisme_required(Right.CATALOGUE_VOIR)
def status(request, public_id):
    """What the page's progress bar polls."""
    checked = _import(request, public_id)
    left = checked.seconds_left
    return JsonResponse(
        {
            "status": checked.status,
            "label": checked.get_status_display(),
            "percent": checked.percent,
            "done": checked.done,
            "total": checked.total,
            "seconds_left": left,
        },
        headers={"Cache-Control": "no-store"},
    )


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def confirm(request, public_id):
    checked = _import(request, public_id)
    offer_import.confirm(offer_import=checked)
    messages.success(
        request, f"L'import de {checked.total} session{'s' if checked.total > 1 else ''} a commencé : vous pouvez suivre sa progression ici."
    )
    return redirect("catalogue:organisme-import", public_id=public_id)


@organisme_required(Right.CATALOGUE_GERER)
@require_POST
def abandon(request, public_id):
    offer_import.abandon(offer_import=_import(request, public_id))
    messages.success(request, "L'import est abandonné : rien n'a été enregistré.")
    return redirect("catalogue:organisme-import-start")


@organisme_required(Right.CATALOGUE_VOIR)
def report(request, public_id):
    """Every rejected row of the check, as CSV."""
    checked = _import(request, public_id)
    return table_download("csv", f"import-{timezone.localdate():%Y-%m-%d}-refus", ["emplacement", "champ", "probleme"], checked.rejected)
