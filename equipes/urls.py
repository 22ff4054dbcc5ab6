from django.urls import path

from . import views

app_name = "equipes"

urlpatterns = [
    path("espace-organisme/equipe/", views.team, name="team"),
    path("espace-organisme/equipe/inviter/", views.invite, name="invite"),
    path("espace-organisme/equipe/quitter/", views.leave, name="leave"),
    path("espace-organisme/equipe/membres/<int:pk>/", views.member_edit, name="member"),
    path("espace-organisme/equipe/membres/<int:pk>/retirer/", views.member_remove, name="member-remove"),
    path("espace-organisme/equipe/invitations/<int:pk>/annuler/", views.invitation_revoke, name="invitation-revoke"),
    path("espace-organisme/invitation/<str:token>/", views.invitation, name="invitation"),
    path("espace-organisme/mes-organismes/", views.switch, name="switch"),
]
