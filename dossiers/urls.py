from django.urls import path

from .views import organisme, titulaire

app_name = "dossiers"

urlpatterns = [
    # Titulaire
    path("sessions/<uuid:public_id>/inscription/", titulaire.register, name="register"),
    path("mes-dossiers/", titulaire.dossier_list, name="list"),
    path("mes-dossiers/<str:numero>/", titulaire.dossier_detail, name="detail"),
    path("mes-dossiers/<str:numero>/informations/", titulaire.dossier_info, name="info"),
    path("mes-dossiers/<str:numero>/cofinancement/", titulaire.dossier_cofinancing, name="cofinancing"),
    path("mes-dossiers/<str:numero>/cofinancement/<int:pk>/retrait/", titulaire.dossier_cofinancing_withdraw, name="cofinancing-withdraw"),
    path("mes-dossiers/<str:numero>/acceptation/", titulaire.dossier_accept, name="accept"),
    path("mes-dossiers/<str:numero>/actions/<slug:name>/", titulaire.dossier_action, name="action"),
    # Organisme
    path("espace-organisme/", organisme.home, name="organisme-home"),
    path("espace-organisme/dossiers/", organisme.inbox, name="organisme-inbox"),
    path("espace-organisme/dossiers/export.csv", organisme.inbox_export, {"fmt": "csv"}, name="organisme-export"),
    path("espace-organisme/dossiers/export.xlsx", organisme.inbox_export, {"fmt": "xlsx"}, name="organisme-export-xlsx"),
    path("espace-organisme/dossiers/<str:numero>/", organisme.dossier_detail, name="organisme-detail"),
    path("espace-organisme/dossiers/<str:numero>/actions/<slug:name>/", organisme.dossier_action, name="organisme-action"),
    path("espace-organisme/dossiers/<str:numero>/justificatifs/", organisme.proof_upload, name="organisme-proof-upload"),
    path("espace-organisme/dossiers/<str:numero>/justificatifs/<uuid:public_id>/", organisme.proof_file, name="organisme-proof"),
]
