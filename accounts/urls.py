from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("inscription/", views.signup, name="signup"),
    path("inscription/activation/", views.activate, name="activate"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("connexion/double-authentification/", views.two_factor_verify, name="two-factor"),
    path("connexion/double-authentification/activation/", views.two_factor_setup, name="two-factor-setup"),
    path("mon-compte/double-authentification/", views.two_factor_codes, name="two-factor-codes"),
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
