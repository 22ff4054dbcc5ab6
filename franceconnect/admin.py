from django.contrib import admin

from .models import FranceConnectIdentity


@admin.register(FranceConnectIdentity)
class FranceConnectIdentityAdmin(admin.ModelAdmin):
    """Read-only: a link is made by the person at login, never by hand."""

    list_display = ("user", "acr", "verified_at", "last_login_at")
    list_filter = ("acr",)
    search_fields = ("user__email", "user__last_name")
    readonly_fields = ("user", "sub", "acr", "verified_at", "last_login_at")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
