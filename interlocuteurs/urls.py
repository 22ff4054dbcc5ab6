from django.urls import path

from . import views

app_name = "interlocuteurs"

urlpatterns = [
    # Titulaire
    path("mon-compte/mes-interlocuteurs/", views.directory, name="directory"),
    path("mes-dossiers/<str:numero>/financement-complementaire/", views.cofinancing_request, name="cofinancing-request"),
    path("mes-dossiers/<str:numero>/financement-complementaire/<uuid:public_id>/annulation/", views.cofinancing_cancel, name="cofinancing-cancel"),
    # Conseiller
    path("espace-conseiller/", views.conseiller_home, name="conseiller-home"),
    path("espace-conseiller/dossiers/<str:numero>/", views.conseiller_detail, name="conseiller-detail"),
    path("espace-conseiller/demandes/", views.conseiller_requests, name="conseiller-requests"),
    path("espace-conseiller/demandes/<uuid:public_id>/", views.conseiller_request, name="conseiller-request"),
]
