from django.urls import path

from . import views, views_import, views_organisme

app_name = "catalogue"

urlpatterns = [
    path("formations/recherche/", views.search_view, name="search"),
    path("formations/communes/", views.commune_suggestions, name="commune-suggestions"),
    path("formations/<str:numero>/", views.formation_detail, name="detail"),
    path("formations/<str:numero>/favori/", views.favori_toggle, name="favori"),
    path("mes-favoris/", views.favoris_list, name="favoris"),
    # Espace organisme
    path("espace-organisme/catalogue/", views_organisme.formation_list, name="organisme-formations"),
    path("espace-organisme/catalogue/sessions.csv", views_organisme.sessions_export, {"fmt": "csv"}, name="organisme-sessions-export"),
    path("espace-organisme/catalogue/sessions.xlsx", views_organisme.sessions_export, {"fmt": "xlsx"}, name="organisme-sessions-export-xlsx"),
    path("espace-organisme/catalogue/import/", views_import.start, name="organisme-import-start"),
    path("espace-organisme/catalogue/import/<uuid:public_id>/", views_import.detail, name="organisme-import"),
    path("espace-organisme/catalogue/import/<uuid:public_id>/etat/", views_import.status, name="organisme-import-status"),
    path("espace-organisme/catalogue/import/<uuid:public_id>/confirmer/", views_import.confirm, name="organisme-import-confirm"),
    path("espace-organisme/catalogue/import/<uuid:public_id>/abandonner/", views_import.abandon, name="organisme-import-abandon"),
    path("espace-organisme/catalogue/import/<uuid:public_id>/refus.csv", views_import.report, name="organisme-import-report"),
    path("espace-organisme/catalogue/nouvelle/", views_organisme.formation_create, name="organisme-formation-create"),
    path("espace-organisme/catalogue/<uuid:public_id>/", views_organisme.formation_edit, name="organisme-formation"),
    path("espace-organisme/catalogue/<uuid:public_id>/publication/", views_organisme.formation_toggle, name="organisme-formation-toggle"),
    path("espace-organisme/catalogue/<uuid:public_id>/actions/nouvelle/", views_organisme.action_create, name="organisme-action-create"),
    path("espace-organisme/actions/<uuid:public_id>/", views_organisme.action_edit, name="organisme-action"),
    path("espace-organisme/actions/<uuid:public_id>/sessions/nouvelle/", views_organisme.session_create, name="organisme-session-create"),
    path("espace-organisme/sessions/<uuid:public_id>/", views_organisme.session_edit, name="organisme-session"),
    path("espace-organisme/sessions/<uuid:public_id>/ouverture/", views_organisme.session_toggle, name="organisme-session-toggle"),
]
