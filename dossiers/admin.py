from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from cpf_portal.http import posted
from cpf_portal.templatetags import euros

from . import display, services
from .models import Dossier, DossierAbondement, DossierEvent, ServiceProof
from .views.organisme import serve_proof
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


class ControlForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            ("controle", "Mettre en contrôle (la validation automatique attend)"),
            ("valider", "Valider le service fait"),
            ("refuser", "Refuser le service fait"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Motif", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Obligatoire pour un refus.")

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuser" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Indiquez le motif du refus.")
        return data


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    """Read-only: a dossier changes only through its transitions (here: validate a
    service fait)."""

    list_display = ["numero", "titulaire", "organisme", "formation", "status", "control_state", "billing_state", "price", "sent_at", "deadline"]
    list_filter = ["status", "control_state", "billing_state"]
    list_select_related = ["titulaire", "organisme", "formation"]
    search_fields = ["numero", "titulaire__email", "organisme__raison_sociale"]
    readonly_fields = ["control_link", "deadline", *[f.name for f in Dossier._meta.fields if f.name != "deadline_at"]]
    inlines = [AbondementInline, EventInline]
    actions = ["validate_service", "open_control"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="échéance", ordering="deadline_at")
    def deadline(self, obj):
        """As the organisme reads it (« … au plus tard le 01/12/2026 »: a deadline at midnight
        is the end of the day before), not the raw midnight of the next day."""
        return display.deadline_text(obj, display.ORGANISME) or "—"

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

    @admin.action(description="Mettre en contrôle (la validation automatique attend)")
    def open_control(self, request, queryset):
        done = 0
        for dossier in queryset.filter(status=Status.SERVICE_DONE):
            services.control_open(dossier_id=dossier.pk, by=request.user)
            done += 1
        self.message_user(request, f"{done} dossier(s) en contrôle.")

    @admin.display(description="contrôle du service fait")
    def control_link(self, obj):
        proofs = format_html_join(
            "",
            "<li><a href='{}'>{} — {}</a></li>",
            ((reverse("admin:dossiers_serviceproof_file", args=[p.public_id]), p.get_kind_display(), p.original_name) for p in obj.proofs.all()),
        )
        link = (
            format_html("<a href='{}'>Décider du contrôle</a>", reverse("admin:dossiers_dossier_control", args=[obj.pk]))
            if obj.status == Status.SERVICE_DONE
            else ""
        )
        return format_html(
            "{} — {}<ul>{}</ul>",
            obj.get_control_state_display(),
            link or "aucune décision à prendre",
            proofs or format_html("<li>{}</li>", "Aucun justificatif"),
        )

    def get_urls(self):
        return [
            path("<int:pk>/controle/", self.admin_site.admin_view(self.control_view), name="dossiers_dossier_control"),
            path("justificatif/<uuid:public_id>/", self.admin_site.admin_view(self.proof_view), name="dossiers_serviceproof_file"),
            *super().get_urls(),
        ]

    def control_view(self, request, pk):
        """The operator's decision on a service fait: control it, validate it or refuse it."""
        if not request.user.is_staff:
            raise PermissionDenied
        dossier = get_object_or_404(Dossier, pk=pk)
        form = ControlForm(posted(request))
        if request.method == "POST" and form.is_valid():
            decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
            try:
                if decision == "controle":
                    services.control_open(dossier_id=dossier.pk, by=request.user, reason=reason)
                    messages.success(request, "Le dossier est en contrôle : sa validation automatique attend votre décision.")
                elif decision == "valider":
                    services.dossier_transition(dossier_id=dossier.pk, name="validate_service", actor=Actor.OPERATEUR, by=request.user)
                    messages.success(request, "Service fait validé : les droits sont débités, l'organisme peut facturer.")
                else:
                    services.dossier_transition(
                        dossier_id=dossier.pk, name="refuse_service", actor=Actor.OPERATEUR, by=request.user, payload={"reason": reason}
                    )
                    messages.success(request, "Service fait refusé : les droits du titulaire lui sont rendus, rien n'est facturable.")
            except (DossierError, TransitionNotAllowed) as error:
                messages.error(request, str(error))
            return redirect("admin:dossiers_dossier_change", dossier.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Contrôle du service fait — dossier n° {dossier.numero}",
            "form": form,
            "opts": self.model._meta,
            "intro": self.control_link(dossier),
        }
        return TemplateResponse(request, "admin/financing/form_page.html", context)

    def proof_view(self, request, public_id):
        if not request.user.is_staff:
            raise PermissionDenied
        return serve_proof(get_object_or_404(ServiceProof.objects.select_related("dossier"), public_id=public_id))
