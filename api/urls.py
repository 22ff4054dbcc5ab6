from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "api"

urlpatterns = [
    path("espace-organisme/api/cles/", views.api_keys, name="keys"),
    path("espace-organisme/api/cles/<uuid:public_id>/revoquer/", views.api_key_revoke, name="key-revoke"),
    path("espace-organisme/api/webhooks/", views.webhook_list, name="webhooks"),
    path("espace-organisme/api/webhooks/<uuid:public_id>/", views.webhook_detail, name="webhook"),
    path("espace-organisme/api/webhooks/<uuid:public_id>/activation/", views.webhook_toggle, name="webhook-toggle"),
    path("espace-organisme/api/webhooks/<uuid:public_id>/envois/<int:delivery_id>/rejouer/", views.delivery_replay, name="delivery-replay"),
    path("api/v1/docs/", views.docs, name="docs"),
    path("api/v1/", RedirectView.as_view(pattern_name="api:docs"), name="root"),
]
