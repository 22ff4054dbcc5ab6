from django.contrib import admin, messages

from cpf_portal.templatetags import euros

from . import services
from .models import Dossier, DossierAbondement, DossierEvent
from .workflow import Actor, DossierError, Status, TransitionNotAllowed


class EventInline(admin.TabularInline):
    model = DossierEvent
    fields = ["created_at", "transition", "from_status", "to_status", "actor", "actor_role", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AbondementInline(admin.TabularInline):
    model = DossierAbondement
    fields = ["financeur", "financeur_name", "amount_cents", "added_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    """Read-only: a dossier changes only through its transitions (here: validate a
    service fait)."""

    list_display = ["numero", "titulaire", "organisme", "formation", "status", "price", "sent_at", "deadline_at"]
    list_filter = ["status"]
    list_select_related = ["titulaire", "organisme", "formation"]
    search_fields = ["numero", "titulaire__email", "organisme__raison_sociale"]
    readonly_fields = [f.name for f in Dossier._meta.fields]
    inlines = [AbondementInline, EventInline]
    actions = ["validate_service"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="prix", ordering="price_cents")
    def price(self, obj):
        return euros(obj.effective_price_cents)

    @admin.action(description="Valider le service fait (débiter les droits)")
    def validate_service(self, request, queryset):
        done = 0
        for dossier in queryset.filter(status=Status.SERVICE_DONE):
            try:
                services.dossier_transition(dossier_id=dossier.pk, name="validate_service", actor=Actor.OPERATEUR, by=request.user)
                done += 1
            except (DossierError, TransitionNotAllowed) as error:
                self.message_user(request, f"Dossier n° {dossier.numero} : {error}", messages.ERROR)
        self.message_user(request, f"{done} service(s) fait validé(s).")
