from django.contrib import admin

from accounts.models import User

from .models import Certification, Commune, Favori, Formation, Organisme, Session


class StaffInline(admin.TabularInline):
    model = User
    fields = ["email", "first_name", "last_name", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "membre du personnel"
    verbose_name_plural = "personnel de l'organisme"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisme)
class OrganismeAdmin(admin.ModelAdmin):
    list_display = ["raison_sociale", "siret", "nda", "city", "email"]
    search_fields = ["raison_sociale", "siret"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [StaffInline]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["type", "code", "libelle", "certificateur", "niveau"]
    list_filter = ["type", "niveau"]
    search_fields = ["code", "libelle"]


class SessionInline(admin.TabularInline):
    model = Session
    fields = ["start_date", "end_date", "permanent_entry", "commune", "address", "price_cents", "places", "active"]
    raw_id_fields = ["commune"]
    extra = 0


@admin.register(Formation)
class FormationAdmin(admin.ModelAdmin):
    list_display = ["intitule", "numero", "organisme", "certification", "duree_heures", "modalite", "active"]
    list_filter = ["active", "modalite", "certification__type"]
    list_select_related = ["organisme", "certification"]
    search_fields = ["numero", "intitule", "organisme__raison_sociale"]
    raw_id_fields = ["organisme", "certification"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [SessionInline]
    show_full_result_count = False


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["name", "code_insee", "departement", "postal_codes", "population"]
    search_fields = ["name", "code_insee", "postal_codes_text"]
    list_filter = ["departement"]
    readonly_fields = ["search_name", "postal_codes_text"]


@admin.register(Favori)
class FavoriAdmin(admin.ModelAdmin):
    list_display = ["user", "formation", "created_at"]
    list_select_related = ["user", "formation"]
    raw_id_fields = ["user", "formation"]
