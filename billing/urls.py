from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("espace-organisme/facturation/", views.to_bill, name="to-bill"),
    path("espace-organisme/facturation/coordonnees-bancaires/", views.bank_account, name="bank"),
    path("espace-organisme/facturation/factures/", views.invoice_list, name="invoices"),
    path("espace-organisme/facturation/factures/export.csv", views.invoice_export, {"fmt": "csv"}, name="invoices-export"),
    path("espace-organisme/facturation/factures/export.xlsx", views.invoice_export, {"fmt": "xlsx"}, name="invoices-export-xlsx"),
    path("espace-organisme/facturation/factures/<str:number>/", views.invoice_detail, name="invoice"),
    path("espace-organisme/facturation/factures/<str:number>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("espace-organisme/facturation/factures/<str:number>/avoir/", views.invoice_credit, name="invoice-credit"),
]
