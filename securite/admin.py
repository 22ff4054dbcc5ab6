from django.contrib import admin

from .models import Passkey, StrongConfirmation


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "name"]
    readonly_fields = ["user", "name", "credential_id", "sign_count", "created_at", "last_used_at"]
    exclude = ["public_key"]

    def has_add_permission(self, request):
        return False


@admin.register(StrongConfirmation)
class StrongConfirmationAdmin(admin.ModelAdmin):
    list_display = ["purpose", "user", "method", "created_at", "confirmed_at", "used_at"]
    list_select_related = ["user"]
    list_filter = ["method"]
    search_fields = ["user__email", "purpose"]
    readonly_fields = ["user", "purpose", "method", "attempts", "created_at", "confirmed_at", "used_at"]
    exclude = ["code_hash"]

    def has_add_permission(self, request):
        return False
