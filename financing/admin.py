"""Operators' views of the money: the ledger is read-only (a correction is a new movement,
with its reason); DIF attestations are checked here (accept / refuse with a reason)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cpf_portal.admin_mixins import ReadOnlyMixin
from cpf_portal.http import posted
from cpf_portal.money import from_cents, to_cents
from cpf_portal.templatetags import euros

from . import services
from .models import (
    Avoir,
    CpfAccount,
    DatedRule,
    DifAttestation,
    DifDeclaration,
    FundingCap,
    Movement,
    ParticipationForfaitaire,
    Payment,
    Refund,
    YearlyDeclaration,
    available_sum,
)
from .views import _serve


class MovementInline(ReadOnlyMixin, admin.TabularInline):
    model = Movement
    fields = ["created_at", "kind", "label", "amount", "reference", "reason", "created_by"]
    readonly_fields = fields
    extra = 0
    ordering = ["-created_at", "-id"]

    @admin.display(description="montant")
    def amount(self, obj):
        return euros(obj.amount_cents)


class CorrectionForm(forms.Form):
    amount = forms.DecimalField(label="Montant (€)", help_text="Positif pour créditer, négatif pour retirer.", decimal_places=2, localize=True)
    reason = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}))

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Le montant ne peut pas être nul.")
        return amount


@admin.register(CpfAccount)
class CpfAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "balance", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "=user__nir", "user__last_name"]
    readonly_fields = ["user", "created_at", "balances"]
    inlines = [MovementInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The droits disponibles of each account of the page, summed in the list's query.
        return super().get_queryset(request).annotate(available_cents=available_sum("movements__"))

    @admin.display(description="droits disponibles", ordering="available_cents")
    def balance(self, obj):
        return euros(obj.available_cents)

    @admin.display(description="soldes")
    def balances(self, obj):
        totals = services.balances(obj)
        url = reverse("admin:financing_cpfaccount_correction", args=[obj.pk])
        return format_html(
            "disponibles {} · bloqués {} · total {} — <a href='{}'>Ajouter une correction</a>",
            euros(totals["available"]),
            euros(totals["locked"]),
            euros(totals["acquired"]),
            url,
        )

    def get_urls(self):
        return [
            path("<int:pk>/correction/", self.admin_site.admin_view(self.correction_view), name="financing_cpfaccount_correction"),
            *super().get_urls(),
        ]

    def correction_view(self, request, pk):
        if not request.user.has_perm("financing.add_movement"):
            raise PermissionDenied
        account = get_object_or_404(CpfAccount, pk=pk)
        form = CorrectionForm(posted(request))
        if request.method == "POST" and form.is_valid():
            services.correction_add(
                account=account,
                amount_cents=to_cents(form.cleaned_data["amount"]),
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
            messages.success(request, "La correction est enregistrée dans le compte.")
            return redirect("admin:financing_cpfaccount_change", account.pk)
        context = {**self.admin_site.each_context(request), "title": f"Correction — {account}", "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/financing/form_page.html", context)


@admin.register(Movement)
class MovementAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "label", "amount", "reference"]
    list_filter = ["kind"]
    list_select_related = ["account__user"]
    search_fields = ["account__user__email", "reference", "label"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return euros(obj.amount_cents)


class AttestationInline(ReadOnlyMixin, admin.TabularInline):
    model = DifAttestation
    fields = ["employer", "hours", "issued_on", "content_type", "size", "link"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="fichier")
    def link(self, obj):
        return format_html("<a href='{}'>Ouvrir l'attestation</a>", reverse("admin:financing_difattestation_file", args=[obj.public_id]))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision", choices=[("accepter", "Accepter l'attestation"), ("refuser", "Refuser l'attestation")], widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Motif du refus", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuser" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Indiquez le motif du refus : il est communiqué au titulaire.")
        return data


@admin.register(DifDeclaration)
class DifDeclarationAdmin(admin.ModelAdmin):
    list_display = ["account", "hours", "amount", "situation", "status", "created_at", "reviewed_at"]
    list_filter = ["status", "situation"]
    list_select_related = ["account__user"]
    search_fields = ["account__user__email", "=account__user__nir"]
    readonly_fields = [f.name for f in DifDeclaration._meta.fields] + ["review_link"]
    inlines = [AttestationInline]
    actions = ["accept_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="montant")
    def amount(self, obj):
        return euros(obj.amount_cents)

    @admin.display(description="contrôle")
    def review_link(self, obj):
        if obj.status == DifDeclaration.Status.REFUSEE:
            return "Refusée"
        return format_html("<a class='button' href='{}'>Contrôler l'attestation</a>", reverse("admin:financing_difdeclaration_review", args=[obj.pk]))

    @admin.action(description="Accepter les attestations sélectionnées")
    def accept_selected(self, request, queryset):
        done = 0
        for declaration in queryset.filter(status=DifDeclaration.Status.EN_CONTROLE):
            services.dif_accept(declaration=declaration, by=request.user)
            done += 1
        self.message_user(request, f"{done} attestation(s) acceptée(s).")

    def get_urls(self):
        return [
            path("<int:pk>/controle/", self.admin_site.admin_view(self.review_view), name="financing_difdeclaration_review"),
            path("attestation/<uuid:public_id>/", self.admin_site.admin_view(self.file_view), name="financing_difattestation_file"),
            *super().get_urls(),
        ]

    def review_view(self, request, pk):
        if not request.user.has_perm("financing.change_difdeclaration"):
            raise PermissionDenied
        declaration = get_object_or_404(DifDeclaration.objects.select_related("account__user"), pk=pk)
        form = ReviewForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                if form.cleaned_data["decision"] == "accepter":
                    services.dif_accept(declaration=declaration, by=request.user)
                    messages.success(request, "Attestation acceptée.")
                else:
                    services.dif_reject(declaration=declaration, reason=form.cleaned_data["reason"], by=request.user)
                    messages.success(request, "Attestation refusée : le crédit DIF est retiré et le titulaire est prévenu.")
            except services.FinancingError as error:
                messages.error(request, str(error))
            return redirect("admin:financing_difdeclaration_change", declaration.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Contrôle de la saisie DIF — {declaration}",
            "form": form,
            "opts": self.model._meta,
            "declaration": declaration,
            "attestations": [
                (a, reverse("admin:financing_difattestation_file", args=[a.public_id]), a.content_type.startswith("image/"))
                for a in declaration.attestations.all()
            ],
        }
        return TemplateResponse(request, "admin/financing/dif_review.html", context)

    def file_view(self, request, public_id):
        if not request.user.has_perm("financing.view_difattestation"):
            raise PermissionDenied
        response = _serve(get_object_or_404(DifAttestation, public_id=public_id))
        # Shown beside the decision on the control page (same origin only).
        response["X-Frame-Options"] = "SAMEORIGIN"
        response._csp_replace = {"frame-ancestors": ["'self'"]}
        return response


class DatedRuleForm(forms.ModelForm):
    """A money rule's value is typed in euros (« 100,00 ») and kept in cents."""

    value = forms.DecimalField(label="Valeur", min_value=0, decimal_places=2, localize=True, help_text=DatedRule._meta.get_field("value").help_text)

    class Meta:
        model = DatedRule
        fields = ["key", "start_date", "value", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.key in DatedRule.MONEY_KEYS:
            self.initial["value"] = from_cents(self.instance.value)

    def clean(self):
        data = super().clean()
        value, key = data.get("value"), data.get("key")
        if value is None or not key:
            return data
        if key in DatedRule.MONEY_KEYS:
            data["value"] = to_cents(value)
        elif value != value.to_integral_value():
            self.add_error("value", "Cette règle attend un nombre entier.")
        else:
            data["value"] = int(value)
        return data


@admin.register(DatedRule)
class DatedRuleAdmin(admin.ModelAdmin):
    """Bilan de compétences and open requests: next year's figures are added with their date."""

    form = DatedRuleForm
    list_display = ["key", "start_date", "value_column", "source"]
    list_filter = ["key"]

    @admin.display(description="valeur", ordering="value")
    def value_column(self, obj):
        return obj.value_display


@admin.register(FundingCap)
class FundingCapAdmin(admin.ModelAdmin):
    """Next year's caps are added here with their date of effect (the split switches at midnight)."""

    list_display = ["action_type", "start_date", "amount_cents", "excluded_codes", "source"]
    list_filter = ["action_type"]


@admin.register(ParticipationForfaitaire)
class ParticipationForfaitaireAdmin(admin.ModelAdmin):
    list_display = ["start_date", "amount", "source"]

    @admin.display(description="montant")
    def amount(self, obj):
        return euros(obj.amount_cents)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "purpose", "amount", "status", "card_last4", "receipt_number"]
    list_filter = ["status"]
    list_select_related = ["user"]
    search_fields = ["user__email", "reference", "receipt_number"]

    @admin.display(description="montant")
    def amount(self, obj):
        return euros(obj.amount_cents)


@admin.register(YearlyDeclaration)
class YearlyDeclarationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["account", "year", "status", "hours_worked", "low_qualification", "computed", "credited"]
    list_filter = ["year", "status", "source"]
    list_select_related = ["account__user"]

    @admin.display(description="calculé")
    def computed(self, obj):
        return euros(obj.computed_cents)

    @admin.display(description="crédité")
    def credited(self, obj):
        return euros(obj.credited_cents)


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["payment", "amount", "reason", "due_date", "status", "refunded_at"]
    list_filter = ["status"]
    list_select_related = ["payment"]
    search_fields = ["payment__reference", "payment__user__email", "reason"]
    date_hierarchy = "due_date"

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return euros(obj.amount_cents)


@admin.register(Avoir)
class AvoirAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "dossier", "amount", "remaining", "created_at"]
    list_select_related = ["user", "dossier"]
    search_fields = ["user__email", "dossier__numero"]

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return euros(obj.amount_cents)

    @admin.display(description="reste disponible")
    def remaining(self, obj):
        return euros(obj.remaining_cents)
