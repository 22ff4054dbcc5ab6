"""« Mes données »: the JSON export of everything the portal holds about the titulaire, and
the deletion of their account."""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.permissions import titulaire_required
from cpf_portal.http import posted
from dossiers.models import Dossier

from . import services
from .forms import DeleteAccountForm


@titulaire_required
@require_http_methods(["GET", "POST"])
def my_data(request):
    if request.GET.get("format") == "json":
        response = JsonResponse(services.export_data(request.user), json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="mes-donnees-{timezone.localdate():%Y-%m-%d}.json"'
        response["Cache-Control"] = "private, no-store"
        return response
    form = DeleteAccountForm(posted(request), user=request.user)
    in_progress = Dossier.objects.filter(titulaire=request.user, status__in=services.IN_PROGRESS).exists()
    if request.method == "POST" and form.is_valid():
        request.error_page = lambda status: render(
            request, "mes_donnees/my_data.html", {"form": DeleteAccountForm(user=request.user), "in_progress": in_progress}, status=status
        )
        services.delete_account(request.user)
        logout(request)
        messages.success(request, "Votre compte est supprimé et vos données personnelles sont effacées.")
        return redirect("home")
    return render(request, "mes_donnees/my_data.html", {"form": form, "in_progress": in_progress}, status=400 if form.errors else 200)
