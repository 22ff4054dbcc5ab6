from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cpf_portal.http import posted
from cpf_portal.queue import enqueue
from equipes.admin import MembershipInline

from . import services
from .models import Action, Certification, Commune, Favori, Formation, Organisme, Ranking, Session
from .tasks import refresh_rankings


class SuspensionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision", choices=[("suspendre", "Suspendre l'organisme"), ("lever", "Lever la suspension")], widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Motif", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Obligatoire pour une suspension.")


@admin.register(Organisme)
class OrganismeAdmin(admin.ModelAdmin):
    list_display = ["raison_sociale", "siret", "nda", "city", "email", "suspended_at"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter)]
    search_fields = ["raison_sociale", "siret"]
    readonly_fields = ["public_id", "created_at", "suspension"]
    inlines = [MembershipInline]

    @admin.display(description="suspension")
    def suspension(self, obj):
        if obj is None or obj.pk is None:
            return "—"  # the add form: nothing to suspend yet
        state = f"Suspendu le {timezone.localtime(obj.suspended_at):%d/%m/%Y} : {obj.suspension_reason}" if obj.suspended_at else "Actif"
        return format_html(
            "{} — <a href='{}'>Suspendre ou lever la suspension</a>", state, reverse("admin:catalogue_organisme_suspension", args=[obj.pk])
        )

    def get_urls(self):
        return [
            path("<int:pk>/suspension/", self.admin_site.admin_view(self.suspension_view), name="catalogue_organisme_suspension"),
            *super().get_urls(),
        ]

    def suspension_view(self, request, pk):
        """Suspend an organisme (its formations leave the search, no new dossier) or lift it;
        its open dossiers are listed for the operator to follow up."""
        if not request.user.has_perm("catalogue.change_organisme"):
            raise PermissionDenied
        organisme = get_object_or_404(Organisme, pk=pk)
        form = SuspensionForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                if form.cleaned_data["decision"] == "suspendre":
                    services.organisme_suspend(organisme=organisme, reason=form.cleaned_data["reason"], by=request.user)
                    messages.success(request, "Organisme suspendu : ses formations ne sont plus proposées.")
                else:
                    services.organisme_reinstate(organisme=organisme, by=request.user)
                    messages.success(request, "Suspension levée.")
                return redirect("admin:catalogue_organisme_suspension", organisme.pk)
            except ValidationError as error:
                form.add_error("reason", error.messages[0])
        # Sent and not closed: the dossiers in progress with this organisme.
        open_dossiers = organisme.dossiers.filter(sent_at__isnull=False, closed_at__isnull=True).select_related("titulaire").order_by("sent_at")
        rows = format_html_join(
            "",
            "<li><a href='{}'>Dossier n° {}</a> — {} — {}</li>",
            ((reverse("admin:dossiers_dossier_change", args=[d.pk]), d.numero, d.get_status_display(), d.titulaire.full_name) for d in open_dossiers),
        )
        state = (
            f"Suspendu depuis le {timezone.localtime(organisme.suspended_at):%d/%m/%Y} ({organisme.suspension_reason})."
            if organisme.suspended_at
            else "Actif."
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Suspension — {organisme}",
            "form": form,
            "opts": self.model._meta,
            "intro": format_html(
                "<p>{}</p><h2>Dossiers en cours ({})</h2><ul>{}</ul>", state, open_dossiers.count(), rows or format_html("<li>{}</li>", "Aucun")
            ),
        }
        return TemplateResponse(request, "admin/financing/form_page.html", context)


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["type", "code", "libelle", "certificateur", "niveau"]
    list_filter = ["type", "niveau"]
    search_fields = ["code", "libelle"]


class ActionInline(admin.TabularInline):
    model = Action
    fields = ["modalite", "commune", "address", "rythmes", "duree_heures", "price_cents", "tva", "reference"]
    raw_id_fields = ["commune"]
    show_change_link = True
    extra = 0


class SessionInline(admin.TabularInline):
    """Sessions take their action's price and place (database trigger)."""

    model = Session
    fields = ["start_date", "end_date", "permanent_entry", "registration_opens", "registration_closes", "places", "active", "reference"]
    extra = 0


@admin.register(Formation)
class FormationAdmin(admin.ModelAdmin):
    list_display = ["intitule", "numero", "organisme", "certification", "duree_heures", "modalite", "active"]
    list_filter = ["active", "modalite", "certification__type"]
    list_select_related = ["organisme", "certification"]
    search_fields = ["numero", "intitule", "organisme__raison_sociale"]
    raw_id_fields = ["organisme", "certification"]
    readonly_fields = ["public_id", "duree_heures", "modalite", "created_at", "updated_at"]
    inlines = [ActionInline]
    show_full_result_count = False


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["formation", "modalite", "commune", "duree_heures", "price_cents", "tva"]
    list_filter = ["modalite"]
    list_select_related = ["formation", "commune"]
    search_fields = ["formation__numero", "formation__intitule", "reference"]
    raw_id_fields = ["formation", "commune"]
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


@admin.register(Ranking)
class RankingAdmin(admin.ModelAdmin):
    """The precomputed rankings of frequent words, read-only: the beat task keeps them (every
    quarter of an hour, each night); « Recalculer » does it now."""

    list_display = ["tsquery", "sort", "formations", "complete", "computed_for", "valid_until", "computed_at"]
    list_filter = ["sort", "complete"]
    search_fields = ["tsquery"]
    ordering = ["tsquery", "sort"]
    fields = ["tsquery", "sort", "formations", "complete", "computed_for", "valid_until", "computed_at", "snapshot"]
    readonly_fields = fields
    actions = ["recompute"]
    show_full_result_count = False

    @admin.display(description="formations gardées")
    def formations(self, obj):
        return len(obj.formation_ids)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Recalculer tous les classements précalculés", permissions=["view"])
    def recompute(self, request, queryset):
        """Queued for a worker: at 200 000 formations the refresh lasts about 30 s."""
        if enqueue(refresh_rankings, False):
            self.message_user(request, "Recalcul de tous les classements demandé : il se fait en arrière-plan.", messages.SUCCESS)
        else:
            self.message_user(
                request, "Recalcul impossible pour l'instant : la file des tâches est injoignable. Réessayez plus tard.", messages.ERROR
            )
