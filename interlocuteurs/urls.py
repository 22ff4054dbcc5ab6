from django.urls import path

from . import views

app_name = "interlocuteurs"

urlpatterns = [
    # Titulaire
    path("mon-compte/mes-interlocuteurs/", views.directory, name="directory"),
    # Conseiller
    path("espace-conseiller/", views.conseiller_home, name="conseiller-home"),
    path("espace-conseiller/dossiers/<str:numero>/", views.conseiller_detail, name="conseiller-detail"),
]
