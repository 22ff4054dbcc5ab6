"""« Espace organisme »: pages of the organisme's staff. Every query is scoped to
``request.user.organisme``; another organisme's rows answer 404."""

from django.shortcuts import render

from accounts.permissions import organisme_required


@organisme_required
def organisme_home(request):
    return render(request, "catalogue/organisme/home.html", {"organisme": request.user.organisme})
