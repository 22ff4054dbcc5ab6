from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("inscription/", views.signup, name="signup"),
    path("inscription/activation/", views.activate, name="activate"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe-oublie/", views.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe-oublie/envoye/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe-oublie/termine/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("mon-compte/", views.account_home, name="home"),
    path("mon-compte/mes-informations/", views.profile, name="profile"),
    path("mon-compte/mot-de-passe/", views.PasswordChangeView.as_view(), name="password_change"),
    path("aide/contact/", views.contact, name="contact"),
]
