from django import forms
from django.contrib import admin, messages

from cpf_portal.admin_mixins import ReadOnlyMixin
from cpf_portal.errors import UserFacingError

from . import services
from .models import Invitation, Membership, TeamEvent, TeamRole


class MembershipForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(label="rôles", choices=TeamRole.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Membership
        fields = ["user", "organisme", "roles"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Operators put the first Responsable des accès of an organisme in its team; the team
    runs itself afterwards. Every change goes through the team's services (and its log)."""

    form = MembershipForm
    list_display = ["user", "organisme", "roles_label", "created_at"]
    list_select_related = ["user", "organisme"]
    list_filter = ["roles"]
    search_fields = ["user__email", "user__last_name", "organisme__raison_sociale", "organisme__siret"]
    autocomplete_fields = ["user", "organisme"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "organisme", "created_at"] if obj else ["created_at"]

    def save_model(self, request, obj, form, change):
        try:
            if change:
                services.roles_change(membership=obj, roles=form.cleaned_data["roles"], by=request.user)
            else:
                obj.pk = services.member_add(user=obj.user, organisme=obj.organisme, roles=form.cleaned_data["roles"], by=request.user).pk
        except UserFacingError as error:
            messages.error(request, error.message)

    def delete_model(self, request, obj):
        try:
            services.member_remove(membership=obj, by=request.user)
        except UserFacingError as error:
            messages.error(request, error.message)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and super().has_delete_permission(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "roles", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "équipe de l'organisme (modifiable depuis « Membres d'équipe »)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["email", "organisme", "roles_label", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["organisme"]
    search_fields = ["email", "organisme__raison_sociale"]
    exclude = ["token_digest"]


@admin.register(TeamEvent)
class TeamEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "organisme", "actor", "kind", "subject", "detail"]
    list_select_related = ["organisme", "actor"]
    list_filter = ["kind"]
    search_fields = ["subject", "organisme__raison_sociale"]
