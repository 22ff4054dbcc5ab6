"""The operators' moderation queue: the comments « En attente » first, published or refused
(with a reason) by the actions, which call the service. The stars are never edited here."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from cpf_portal.errors import UserFacingError

from . import services
from .models import CRITERIA_FIELDS, Evaluation, Moderation


class ModerationFilter(admin.SimpleListFilter):
    """« En attente » unless another state is chosen: the queue is the default view."""

    title = "modération du commentaire"
    parameter_name = "moderation"

    def lookups(self, request, model_admin):
        return [*Moderation.choices, ("all", "Toutes")]

    def choices(self, changelist):
        value = self.value() or Moderation.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or Moderation.PENDING
        return queryset if value == "all" else queryset.filter(moderation=value)


class RefusalForm(forms.Form):
    reason = forms.CharField(label="Motif du refus (communiqué au titulaire)", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "formation", "overall_label", "comment_excerpt", "moderation", "moderated_at"]
    list_filter = [ModerationFilter, "created_at"]
    list_select_related = ["formation"]
    search_fields = ["formation__intitule", "formation__numero", "comment"]
    ordering = ["created_at", "id"]
    actions = ["publish", "refuse"]
    readonly_fields = [
        "created_at",
        "formation",
        "organisme",
        *CRITERIA_FIELDS,
        "training_confirmed",
        "comment",
        "moderation",
        "refusal_reason",
        "moderated_by",
        "moderated_at",
    ]
    exclude = ["dossier"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="note")
    def overall_label(self, obj):
        return obj.overall_label

    @admin.display(description="commentaire")
    def comment_excerpt(self, obj):
        return (obj.comment[:120] + "…") if len(obj.comment) > 120 else obj.comment or "—"

    def _moderate(self, request, queryset, *, publish: bool, reason: str = "") -> None:
        done = 0
        for evaluation in queryset.exclude(moderation=Moderation.NONE):
            try:
                services.evaluation_moderate(evaluation_id=evaluation.pk, by=request.user, publish=publish, reason=reason)
                done += 1
            except UserFacingError as error:
                self.message_user(request, error.message, messages.ERROR)
        verb = "publié" if publish else "refusé"
        self.message_user(request, f"{done} commentaire{'s' if done > 1 else ''} {verb}{'s' if done > 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Publier les commentaires sélectionnés")
    def publish(self, request, queryset):
        self._moderate(request, queryset, publish=True)

    @admin.action(description="Refuser les commentaires sélectionnés (avec un motif)")
    def refuse(self, request, queryset):
        form = RefusalForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._moderate(request, queryset, publish=False, reason=form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Refuser des commentaires",
            "opts": self.model._meta,
            "evaluations": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/evaluations/refuse.html", context)
