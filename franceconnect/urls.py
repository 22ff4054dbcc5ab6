from django.urls import path

from . import views

app_name = "franceconnect"

urlpatterns = [
    path("franceconnect/connexion/", views.login_start, name="login"),
    path("franceconnect/retour/", views.callback, name="callback"),
    path("franceconnect/associer-mon-compte/", views.link_account, name="link"),
]
