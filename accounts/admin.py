from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import nir as nir_lib
from . import two_factor
from .models import ActivationCode, ContactRequest, Structure, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role", "organisme", "structure", "nir")

    def clean_nir(self):
        value = self.cleaned_data.get("nir")
        if not value:
            return None
        return nir_lib.validate(value).nir


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = "__all__"  # noqa: DJ007 — the admin's fieldsets choose what is shown

    def clean_nir(self):
        value = self.cleaned_data.get("nir")
        if not value:
            return None
        return nir_lib.validate(value).nir


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserChangeForm
    ordering = ["-date_joined"]
    list_display = ["email", "full_name", "nir_masked_column", "role", "organisme", "activated_at", "is_active"]
    list_filter = ["role", "is_active", "is_staff", ("activated_at", admin.EmptyFieldListFilter)]
    list_select_related = ["organisme"]
    search_fields = ["email", "last_name", "first_name", "=nir"]
    readonly_fields = ["public_id", "date_joined", "last_login", "cgu_accepted_at", "anonymized_at"]
    autocomplete_fields = ["organisme", "structure", "interlocuteur"]
    fieldsets = [
        (None, {"fields": ["public_id", "email", "password", "role", "organisme", "structure", "interlocuteur", "anonymized_at"]}),
        ("Identité", {"fields": ["nir", "first_name", "last_name", "usage_name", "birth_date", "apprenticeship_contract"]}),
        (
            "Informations professionnelles",
            {"fields": ["diploma", "diploma_year", "socio_professional_category", "employment_status"]},
        ),
        (
            "Coordonnées",
            {
                "fields": [
                    "phone_mobile",
                    "phone_landline",
                    "street_number",
                    "street_repetition",
                    "street_type",
                    "street_name",
                    "address_complement",
                    "locality",
                    "postal_code",
                    "city",
                ]
            },
        ),
        ("État", {"fields": ["is_active", "activated_at", "cgu_accepted_at", "date_joined", "last_login"]}),
        ("Droits d'administration", {"classes": ["collapse"], "fields": ["is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "organisme", "structure", "nir", "password1", "password2"]})]
    actions = ["reset_second_factor"]

    @admin.display(description="nom", ordering="last_name")
    def full_name(self, obj):
        return obj.full_name

    @admin.action(description="Réinitialiser la double authentification (nouvelle activation à la connexion)")
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            two_factor.remove_all(user)
        self.message_user(request, f"Double authentification réinitialisée pour {queryset.count()} compte(s).")

    @admin.display(description="NIR", ordering="nir")
    def nir_masked_column(self, obj):
        return obj.nir_masked


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at", "attempts", "used_at", "revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "code_hash", "created_at", "expires_at", "attempts", "used_at", "revoked_at"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "city", "departement", "phone", "email"]
    list_filter = ["type", "departement"]
    search_fields = ["name", "city", "postal_code"]
    raw_id_fields = ["commune"]


@admin.register(ContactRequest)
class ContactRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "created_at", "subject", "name", "email", "dossier_numero", "handled_at"]
    list_filter = ["subject", ("handled_at", admin.EmptyFieldListFilter)]
    search_fields = ["reference", "email", "name", "dossier_numero"]
    readonly_fields = ["reference", "user", "name", "email", "subject", "message", "dossier_numero", "client_key", "created_at"]
    actions = ["mark_handled"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Marquer comme traitées")
    def mark_handled(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(handled_at__isnull=True).update(handled_at=timezone.now())
        self.message_user(request, f"{count} demande(s) marquée(s) comme traitée(s).")


# Authenticator apps and recovery codes are not edited one by one: an operator resets a
# person's second factor from « Utilisateurs » (the action above); django-otp's own English
# admin pages are left out.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)

# The audit trail (django-auditlog's read-only admin), with the address each change came from.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(LogEntryAdmin):
    list_display = [*LogEntryAdmin.list_display, "remote_addr"]
    search_fields = [*LogEntryAdmin.search_fields, "=remote_addr", "=cid"]
    fieldsets = [(None, {"fields": ["created", "user_url", "resource_url", "cid", "remote_addr"]}), *LogEntryAdmin.fieldsets[1:]]
    readonly_fields = [*LogEntryAdmin.readonly_fields, "remote_addr", "cid"]
