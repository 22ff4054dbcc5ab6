"""Public catalogue: search, detail, favourites, commune suggestions."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import titulaire_required
from cpf_portal.http import list_links, redirect_back, safe_local_url

from . import cache, display, services
from .forms import SearchForm
from .models import Favori, Formation
from .search import suggest_communes

SEARCH_FIELDS = ("quoi", "ou")


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 500))
    except ValueError:
        return 1


def _search_params(query: QueryDict) -> QueryDict:
    """The query string's search fields and page only: anything else (tracking parameters…)
    neither changes the page nor goes into its links, nor makes a new cache entry."""
    params = QueryDict(mutable=True)
    for name in (*SearchForm.base_fields, "page"):
        if name in query:
            params.setlist(name, query.getlist(name))
    return params


def _search_url(params: QueryDict) -> str:
    url = reverse("catalogue:search")
    return f"{url}?{params.urlencode()}" if params else url


def results_url(request) -> str:
    """The results a formation page was opened from (its « retour » parameter, set by the
    result cards), for its breadcrumb: only a path of this site's search page is taken, and
    of its query string only the search's own fields; anything else gives ""."""
    candidate = safe_local_url(request, request.GET.get("retour", ""))
    parts = urlsplit(candidate)
    if not candidate or parts.path != reverse("catalogue:search"):
        return ""
    return _search_url(_search_params(QueryDict(parts.query)))


def search_page(request, params: QueryDict, generations, today, *, user=None) -> dict:
    """The search page's parts that depend on the search fields of the query string
    (``params``) and, for a signed-in visitor, on their favourites: status, title, the form's
    fields and the results, as HTML."""
    submitted = any(request.GET.get(name) for name in SEARCH_FIELDS) or "tri" in request.GET
    form = SearchForm(request.GET if submitted else None, generations=generations)
    result = None
    favori_ids: set[int] = set()
    if submitted and form.is_valid():
        query = form.to_query(_page_number(request))
        if not query.is_empty:
            result = cache.search(query, today=today, gens=generations)
            if user is not None and result.rows:
                favori_ids = set(
                    Favori.objects.filter(user=user, formation__sessions__in=[row[0] for row in result.rows]).values_list("formation_id", flat=True)
                )
    errors = submitted and bool(form.errors)
    context = {
        "form": form,
        "result": result,
        "favori_ids": favori_ids,
        "query_prefix": list_links(params)["query_prefix"],
        # The cards' links carry these results' address, for the formation page's breadcrumb.
        "detail_query": "?" + urlencode({"retour": _search_url(params)}),
    }
    title = f"{'Erreur – ' if errors else ''}Rechercher une formation"
    if result is not None:
        title += f" : {form.cleaned_data['quoi']}" if form.cleaned_data.get("quoi") else ""
        title += f" (page {result.query.page})" if result.query.page > 1 else ""
    return {
        "submitted": submitted,
        "errors": errors,
        "status": 400 if errors else 200,
        "title": title,
        "form_html": render_to_string("catalogue/_search_form_fields.html", context),
        "results_html": render_to_string("catalogue/_search_results.html", context) if result is not None else "",
    }


# The public pages only read: no transaction to open and commit around them (ATOMIC_REQUESTS).
@transaction.non_atomic_requests
@require_GET
def search_view(request):
    # Commune lookups, results and the rendered parts come from the shared cache, keyed by the
    # catalogue's generations read here, first (catalogue/cache.py): an anonymous visitor's
    # page is the same for everyone asking the same query string, built once per generation.
    generations = cache.generations()
    today = timezone.localdate()
    params = _search_params(request.GET)
    if request.user.is_authenticated:
        page = search_page(request, params, generations, today, user=request.user)
    else:
        page = cache.remember(cache.search_page_key(generations, today, params), lambda: search_page(request, params, generations, today))
    return render(request, "catalogue/search.html", {"page": page}, status=page["status"])


@require_GET
def commune_suggestions(request):
    """Progressive autocomplete of « Où ? » (the form works without it)."""
    communes = suggest_communes(request.GET.get("q", "")[:60])
    return JsonResponse({"results": [{"label": c.label, "code": c.code_insee} for c in communes]})


@transaction.non_atomic_requests
@require_GET
def formation_detail(request, numero):
    generations = cache.generations()
    today = timezone.localdate()
    page = cache.formation_page(numero, today=today, gens=generations)
    if page is None:
        raise Http404("Formation introuvable")
    formation, sessions = page
    for session in sessions:
        session.registrable = session.registration_open(today)
    is_favori = request.user.is_authenticated and Favori.objects.filter(user=request.user, formation=formation).exists()
    context = {
        "formation": formation,
        "sessions": sessions,
        "is_favori": is_favori,
        "main_session": sessions[0] if sessions else None,
        "price": display.price_from(sessions),
        "sessions_key": cache.formation_sessions_key(generations, today, formation, viewer=cache.viewer_kind(request.user)),
        "results_url": results_url(request),
    }
    return render(request, "catalogue/detail.html", context)


@titulaire_required
@require_POST
def favori_toggle(request, numero):
    formation = get_object_or_404(Formation.objects.published(), numero=numero)
    if request.POST.get("action") == "retirer":
        services.favori_remove(user=request.user, formation=formation)
        messages.success(request, "Formation retirée de vos favoris.")
    else:
        services.favori_add(user=request.user, formation=formation)
        messages.success(request, "Formation ajoutée à vos favoris.")
    return redirect_back(request, request.POST.get("next", ""), reverse("catalogue:detail", args=[numero]))


@titulaire_required
@require_GET
def favoris_list(request):
    favoris = (
        Favori.objects.filter(user=request.user, formation__active=True)
        .prefetch_related(Prefetch("formation", Formation.objects.with_duree_range().select_related("organisme", "certification")))
        .order_by("-created_at")
    )
    return render(request, "catalogue/favoris.html", {"favoris": favoris})
