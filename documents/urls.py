from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("mon-compte/mes-documents/", views.documents_list, name="list"),
    path("mon-compte/mes-documents/attestation-de-droits/", views.rights_attestation, name="rights-attestation"),
    path("mon-compte/mes-documents/<uuid:public_id>/", views.document_download, name="download"),
    path("mon-compte/mes-documents/recus/<uuid:public_id>/", views.receipt_download, name="receipt"),
    path("mon-compte/mes-documents/certificats/<str:numero>/", views.certificate_download, name="certificate"),
]
