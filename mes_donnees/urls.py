from django.urls import path

from . import views

app_name = "mes_donnees"

urlpatterns = [
    path("mon-compte/mes-donnees/", views.my_data, name="my-data"),
]
