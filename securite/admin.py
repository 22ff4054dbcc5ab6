from django.contrib import admin
from django.utils import timezone

from . import services
from .models import AccountFreeze, EmailChange, FraudAlert, Passkey, StrongConfirmation


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


@admin.register(AccountFreeze)
class AccountFreezeAdmin(admin.ModelAdmin):
    list_display = ["user", "frozen_at", "case", "lifted_at"]
    list_select_related = ["user", "case"]
    list_filter = [("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email"]
    readonly_fields = ["user", "dossier", "case", "frozen_at", "lifted_at", "lifted_by"]
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Débloquer les achats (après contact avec le titulaire)")
    def lift(self, request, queryset):
        for freeze in queryset.filter(lifted_at__isnull=True):
            services.freeze_lift(freeze=freeze, by=request.user)
        self.message_user(request, "Achats débloqués.")


@admin.register(FraudAlert)
class FraudAlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "dossier", "user", "detail", "created_at", "handled_at"]
    list_select_related = ["dossier", "user"]
    list_filter = ["rule", ("handled_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "dossier__numero"]
    readonly_fields = ["rule", "user", "dossier", "detail", "created_at", "handled_at"]
    actions = ["handle"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Vérifiée : l'achat peut reprendre")
    def handle(self, request, queryset):
        queryset.filter(handled_at__isnull=True).update(handled_at=timezone.now())
        self.message_user(request, "Alertes traitées.")


@admin.register(EmailChange)
class EmailChangeAdmin(admin.ModelAdmin):
    list_display = ["user", "old_email", "new_email", "changed_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "old_email", "new_email"]
    readonly_fields = ["user", "old_email", "new_email", "changed_at"]

    def has_add_permission(self, request):
        return False
