from django.contrib import admin, messages

from cpf_portal.admin_mixins import ReadOnlyMixin

from . import keys, webhooks
from .models import ApiKey, ApiWrite, Delivery, WebhookEndpoint


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Keys are made by the organismes' Responsables des accès; operators read and revoke."""

    list_display = ["name", "organisme", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_select_related = ["organisme"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organisme__raison_sociale", "organisme__siret"]
    exclude = ["key_digest"]
    actions = ["revoke"]

    @admin.action(description="Révoquer les clés choisies")
    def revoke(self, request, queryset):
        for key in queryset:
            keys.key_revoke(key=key, by=request.user)
        messages.success(request, f"{queryset.count()} clé(s) révoquée(s).")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_superuser  # the action, not the form


@admin.register(ApiWrite)
class ApiWriteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "api_key", "method", "path", "status_code", "idempotency_key"]
    list_select_related = ["api_key__organisme"]
    search_fields = ["path", "api_key__prefix", "api_key__organisme__siret"]
    exclude = ["response_body"]
    show_full_result_count = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["url", "organisme", "active", "failing_since", "created_at"]
    list_select_related = ["organisme"]
    list_filter = ["active"]
    search_fields = ["url", "organisme__raison_sociale", "organisme__siret"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "subject", "endpoint", "status", "attempts", "last_status_code", "last_duration_ms"]
    list_select_related = ["endpoint"]
    list_filter = ["status", "event"]
    search_fields = ["subject", "event_id", "endpoint__url"]
    actions = ["replay"]
    show_full_result_count = False

    @admin.action(description="Renvoyer les événements choisis")
    def replay(self, request, queryset):
        for delivery in queryset:
            webhooks.replay(delivery=delivery)
        messages.success(request, f"{queryset.count()} envoi(s) reprogrammé(s).")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_superuser
