from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api.v1 import api as api_v1

from . import health, metrics, views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("conditions-generales-d-utilisation/", views.cgu, name="cgu"),
    path("aide/", views.help_index, name="aide"),
    path("aide/compte-personnel-de-formation/", views.help_cpf, name="aide-cpf"),
    path("aide/dif/", views.help_dif, name="aide-dif"),
    path("aide/etapes-du-dossier/", views.help_dossier, name="aide-dossier"),
    path("accessibilite/", views.accessibility, name="accessibilite"),
    path("donnees-personnelles/", views.privacy, name="donnees-personnelles"),
    path("", include("accounts.urls")),
    path("", include("catalogue.urls")),
    path("", include("financing.urls")),
    path("", include("dossiers.urls")),
    path("", include("evaluations.urls")),
    path("", include("securite.urls")),
    path("", include("billing.urls")),
    path("", include("equipes.urls")),
    path("", include("interlocuteurs.urls")),
    path("", include("mes_donnees.urls")),
    path("", include("documents.urls")),
    path("", include("notifications.urls")),
    path("", include("api.urls")),  # before the API itself: its /api/v1/docs/ page
    path("api/v1/", api_v1.urls),
    path("admin/", admin.site.urls),
    # Operations: load balancers, Prometheus (README « Exploitation »).
    path("sante/", health.ready, name="sante"),
    path("sante/vivant/", health.alive, name="sante-vivant"),
    path("healthz", health.ready, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

# « S'identifier avec FranceConnect »: its URLs exist only when it is configured (README « FranceConnect »).
if settings.FRANCECONNECT_ISSUER:
    urlpatterns.append(path("", include("franceconnect.urls")))

handler400 = "cpf_portal.views.bad_request"
handler403 = "cpf_portal.views.permission_denied"
handler404 = "cpf_portal.views.page_not_found"
handler500 = "cpf_portal.views.server_error"
