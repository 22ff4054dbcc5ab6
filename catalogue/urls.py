from django.urls import path

from . import views_organisme

app_name = "catalogue"

urlpatterns = [
    path("espace-organisme/", views_organisme.organisme_home, name="organisme-home"),
]
