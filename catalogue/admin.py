from django.contrib import admin

from .models import Organisme


@admin.register(Organisme)
class OrganismeAdmin(admin.ModelAdmin):
    list_display = ["raison_sociale", "siret", "nda", "city", "email"]
    search_fields = ["raison_sociale", "siret"]
    readonly_fields = ["public_id", "created_at"]
