from django.urls import path

from . import views

app_name = "evaluations"

urlpatterns = [
    # Titulaire (beside the dossier's pages)
    path("mes-dossiers/<str:numero>/evaluation/", views.evaluate, name="evaluate"),
    # Organisme
    path("espace-organisme/evaluations/", views.organisme_evaluations, name="organisme"),
]
