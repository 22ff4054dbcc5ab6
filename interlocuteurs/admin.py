from django.contrib import admin

from .models import CofinancingRequest


@admin.register(CofinancingRequest)
class CofinancingRequestAdmin(admin.ModelAdmin):
    """Read-only: the titulaire asks and the conseiller answers through their spaces (services)."""

    list_display = ["dossier", "structure", "status", "created_at", "answered_at"]
    list_filter = ["status", "structure__type"]
    search_fields = ["dossier__numero", "structure__name"]
    list_select_related = ["dossier", "structure"]
    readonly_fields = [field.name for field in CofinancingRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
