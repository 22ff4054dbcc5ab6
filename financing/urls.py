from django.urls import path

from . import views

app_name = "financing"

urlpatterns = [
    path("mes-droits/", views.rights, name="rights"),
    path("mes-droits/dif/", views.dif_entry, name="dif"),
    path("mes-droits/dif/attestations/<uuid:public_id>/", views.attestation_file, name="attestation"),
    path("mes-paiements/<uuid:public_id>/recu/", views.receipt, name="receipt"),
]
