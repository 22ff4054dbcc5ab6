import json
from functools import lru_cache

from django.conf import settings
from django.db.models import F
from django.http import HttpResponseRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from catalogue.forms import SearchForm
from dossiers.models import Dossier
from financing import services as financing
from financing.models import DatedRule


@lru_cache(maxsize=1)
def checker_versions() -> dict:
    """Versions of the accessibility and HTML checkers, from package.json (the one source)."""
    package = json.loads((settings.BASE_DIR / "package.json").read_text(encoding="utf-8"))
    return package["devDependencies"]


HOME_WAITING_DOSSIERS = 5


@require_GET
def home(request):
    """« Quelle formation ? » / « Où ? » first, as on the real portal; a titulaire also sees
    his droits disponibles (the tile of ``financing``'s template tags) and the dossiers
    waiting for him, each with its next step."""
    user = request.user
    titulaire = user.is_authenticated and user.is_titulaire
    waiting = []
    if titulaire:
        waiting = list(
            Dossier.objects.for_titulaire(user)
            .waiting_for_titulaire()
            .select_related("formation")
            .order_by(F("deadline_at").asc(nulls_last=True), "-created_at", "-id")[: HOME_WAITING_DOSSIERS + 1]
        )
    context = {
        "search_form": SearchForm(),
        "waiting": waiting[:HOME_WAITING_DOSSIERS],
        "more_waiting": len(waiting) > HOME_WAITING_DOSSIERS,
    }
    return render(request, "pages/home.html", context)


@require_GET
def cgu(request):
    return render(request, "pages/cgu.html")


HELP_TOPICS = [
    ("aide-cpf", "Comment fonctionne le CPF", "Qui a un compte, comment les droits sont acquis, ce qu'ils financent"),
    ("aide-dif", "Vos heures de DIF", "Saisir son solde DIF avant la date limite"),
    ("aide-dossier", "Les étapes d'un dossier", "De « S'inscrire à cette session » au débit des droits"),
    ("accounts:contact", "Contacter l'assistance", "Une question, un problème, un démarchage à signaler"),
]


@require_GET
def help_index(request):
    return render(request, "pages/aide/index.html", {"topics": HELP_TOPICS})


@require_GET
def help_cpf(request):
    # The rules in force today, from the operators' dated tables.
    today = timezone.localdate()
    caps = [(financing.CAP_LABELS.get(cap.action_type, cap.get_action_type_display()), cap) for cap in financing.caps_in_force(today)]
    context = {
        "participation_cents": financing.participation_on(today),
        "exemptions": [financing.JOBSEEKER, *financing.EXEMPTING_FINANCEURS.values()],
        "caps": caps,
        "bilan_min_hours": financing.rule_on(DatedRule.Key.BILAN_MIN_HOURS, today),
        "bilan_every_years": financing.rule_on(DatedRule.Key.BILAN_EVERY_YEARS, today),
        "permis_min_cofinancing_cents": financing.rule_on(DatedRule.Key.PERMIS_MIN_COFINANCING, today),
    }
    return render(request, "pages/aide/cpf.html", context)


@require_GET
def help_dif(request):
    return render(request, "pages/aide/dif.html", {"dif_deadline": settings.CPF_DIF_DEADLINE})


@require_GET
def help_dossier(request):
    # The delays come from the settings the rules read (context processor « delays »).
    return render(request, "pages/aide/dossier.html")


@require_GET
def accessibility(request):
    versions = checker_versions()
    return render(request, "pages/accessibilite.html", {"axe_version": versions["axe-core"], "vnu_version": versions["vnu-jar"]})


@require_GET
def privacy(request):
    return render(request, "pages/donnees_personnelles.html", {"login_log_days": settings.CPF_LOGIN_LOG_RETENTION_DAYS})


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without a request context: the failure may be the database itself.
    return HttpResponseServerError(loader.get_template("500.html").render())


@require_GET
def favicon(request):
    """Browsers and the admin ask /favicon.ico: the DSFR's Marianne, from the static files."""
    # Not permanent: the hashed name of the static file changes with the DSFR's version.
    response = HttpResponseRedirect(static("dsfr/dist/favicon/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
