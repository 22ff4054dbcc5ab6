"""Shared Django admin building blocks: read-only records, and money read and typed in euros."""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from cpf_portal.money import euros, from_cents, to_cents

CENTS_SUFFIX = "_cents"
EUROS_SUFFIX = "_en_euros"


class ReadOnlyMixin:
    """A record operators read but never add, change or delete from the admin (ledgers,
    logs, issued documents)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def euros_label(field) -> str:
    """« montant (centimes) » → « Montant »: the operator reads and types euros."""
    label = str(field.verbose_name)
    for suffix in (" (centimes)", " en centimes", " (cents)"):
        label = label.removesuffix(suffix)
    return capfirst(label.replace("_", " ").removesuffix(" cents").strip())


class EurosField(forms.DecimalField):
    """A cents column typed in euros (« 1 245,50 »); ``clean`` gives back whole cents."""

    def __init__(self, **kwargs):
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def to_python(self, value):
        # « 1 245,50 € » as a person types it: spaces of any kind and the sign are left out.
        if isinstance(value, str):
            value = "".join(value.replace("€", "").split()).replace("\u202f", "").replace("\u00a0", "")
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            value = from_cents(value)
        return super().prepare_value(value)

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else to_cents(value)

    def has_changed(self, initial, data):
        try:
            data = self.clean(data)
        except forms.ValidationError:
            return True
        return data != initial


class EurosAdminMixin:
    """Every ``*_cents`` column of a model admin or inline is shown and typed in euros, never
    as raw cents: the change lists and read-only fields show « 1 245,00 € » (the column
    ``<name>_en_euros``, sortable), the forms an euros field. The admin site mixes it into
    every admin it registers (``cpf_portal.admin_site``)."""

    def _cents_field(self, name):
        if not isinstance(name, str) or not name.endswith(CENTS_SUFFIX):
            return None
        try:
            return self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return None

    def _in_euros(self, names, only=None):
        mapped = []
        for name in names:
            if isinstance(name, (list, tuple)):
                mapped.append(type(name)(self._in_euros(name, only)))
            elif self._cents_field(name) and (only is None or name in only):
                mapped.append(name.removesuffix(CENTS_SUFFIX) + EUROS_SUFFIX)
            else:
                mapped.append(name)
        return mapped

    def __getattr__(self, name):
        # The display columns ``<field>_en_euros`` exist for every cents field of the model.
        if name.endswith(EUROS_SUFFIX):
            field = self._cents_field(name.removesuffix(EUROS_SUFFIX) + CENTS_SUFFIX)
            if field is not None:

                def display(obj, _name=field.name):
                    return euros(getattr(obj, _name))

                display.short_description = euros_label(field)
                display.admin_order_field = field.name
                return display
        raise AttributeError(name)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name.endswith(CENTS_SUFFIX) and not db_field.choices:
            return EurosField(
                label=euros_label(db_field) + " (€)",
                required=not db_field.blank,
                help_text=db_field.help_text,
                initial=db_field.get_default() if db_field.has_default() else None,
            )
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")  # Django 6's default, without its warning
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _readonly_cents(self, request, obj):
        return {name for name in super().get_readonly_fields(request, obj) if self._cents_field(name)}

    def get_readonly_fields(self, request, obj=None):
        return self._in_euros(super().get_readonly_fields(request, obj))

    def get_exclude(self, request, obj=None):
        # A read-only cents field is shown by its euros column, so the form leaves it out.
        excluded = list(super().get_exclude(request, obj) or [])
        return [*excluded, *sorted(self._readonly_cents(request, obj))] or None

    def get_fieldsets(self, request, obj=None):
        viewing = not self.has_change_permission(request, obj)
        only = None if viewing else self._readonly_cents(request, obj)
        return [(title, {**options, "fields": self._in_euros(options["fields"], only)}) for title, options in super().get_fieldsets(request, obj)]

    def get_list_display(self, request):
        return self._in_euros(super().get_list_display(request))
