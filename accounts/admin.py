from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django import forms

from . import nir as nir_lib
from .models import ActivationCode, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role", "organisme", "nir")

    def clean_nir(self):
        value = self.cleaned_data.get("nir")
        if not value:
            return None
        return nir_lib.validate(value).nir


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = "__all__"

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
    readonly_fields = ["public_id", "date_joined", "last_login", "cgu_accepted_at"]
    autocomplete_fields = ["organisme"]
    fieldsets = [
        (None, {"fields": ["public_id", "email", "password", "role", "organisme"]}),
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
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "organisme", "nir", "password1", "password2"]})]

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
