from django.urls import path

from . import views

app_name = "dossiers"

urlpatterns = [
    # Titulaire
    path("sessions/<uuid:public_id>/inscription/", views.register, name="register"),
    path("mes-dossiers/", views.dossier_list, name="list"),
    path("mes-dossiers/<str:numero>/", views.dossier_detail, name="detail"),
    path("mes-dossiers/<str:numero>/acceptation/", views.dossier_accept, name="accept"),
    path("mon-compte/mes-donnees/", views.my_data, name="my-data"),
    # Organisme
    path("espace-organisme/dossiers/", views.inbox, name="organisme-inbox"),
    path("espace-organisme/dossiers/export.csv", views.inbox_export, name="organisme-export"),
    path("espace-organisme/dossiers/<str:numero>/", views.organisme_detail, name="organisme-detail"),
    # Conseiller
    path("espace-conseiller/", views.conseiller_home, name="conseiller-home"),
    path("espace-conseiller/dossiers/<str:numero>/", views.conseiller_detail, name="conseiller-detail"),
]
