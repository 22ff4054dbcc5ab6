from django.urls import path

from . import views

app_name = "securite"

urlpatterns = [
    path("mon-compte/securite/", views.security, name="security"),
    path("mon-compte/securite/application/", views.totp_setup, name="totp-setup"),
    path("mon-compte/securite/application/retrait/", views.totp_remove, name="totp-remove"),
    path("mon-compte/securite/cles/options/", views.passkey_options, name="passkey-options"),
    path("mon-compte/securite/cles/", views.passkey_register, name="passkey-register"),
    path("mon-compte/securite/cles/<int:pk>/retrait/", views.passkey_remove, name="passkey-remove"),
    path("mes-dossiers/<str:numero>/confirmation/application/", views.confirm_totp, name="confirm-totp"),
    path("mes-dossiers/<str:numero>/confirmation/courriel/envoi/", views.confirm_email_send, name="confirm-email-send"),
    path("mes-dossiers/<str:numero>/confirmation/courriel/", views.confirm_email, name="confirm-email"),
    path("mes-dossiers/<str:numero>/confirmation/cle/options/", views.confirm_passkey_options, name="confirm-passkey-options"),
    path("mes-dossiers/<str:numero>/confirmation/cle/", views.confirm_passkey, name="confirm-passkey"),
    path("ce-n-est-pas-moi/<str:token>/", views.not_me, name="not-me"),
]
