"""Base form of the portal: DSFR rendering plus an error summary at the top of the form,
linked to each field in error (RGAA 11.10/11.11)."""

from django import forms
from dsfr.forms import DsfrBaseForm, DsfrBoundField

from cpf_portal.templatetags import no_final_stop


class HiddenBoundField(DsfrBoundField):
    """A hidden field has no label to point at: no id, so that a page holding several
    forms with the same hidden field (the dossier's version) keeps its ids unique."""

    @property
    def auto_id(self):
        return ""


class CpfForm(DsfrBaseForm):
    template_name = "components/form.html"
    # The browser's own validation bubbles would pre-empt our French messages next to the
    # field; required fields are exposed with aria-required and optional ones are marked
    # « (Optionnel) » by DSFR.
    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields()
        # Bound fields copy label and help text when first built (django-dsfr builds them in
        # its __init__): rebuild them so setup_fields() changes show.
        self._bound_fields_cache.clear()
        for field in self.fields.values():
            # django-dsfr's input template reads widget.group_class and falls back to
            # « fr-input-group »; set it so the lookup never fails.
            if not hasattr(field.widget, "group_class"):
                field.widget.group_class = "fr-input-group"
            if field.widget.is_hidden:
                field.bound_field_class = HiddenBoundField
            elif field.required and not isinstance(field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                field.widget.attrs.setdefault("aria-required", "true")

    def setup_fields(self):
        """Adjust labels, help texts, choices… of ``self.fields`` (override in forms)."""

    def read_only(self, when: bool = True):
        """Show the values to a person who may not change them (a Lecteur): every field disabled."""
        if when:
            for field in self.fields.values():
                field.disabled = True
        return self

    def add_service_errors(self, error, aliases: dict | None = None) -> None:
        """A service's ``ValidationError`` shown next to the form's fields (``aliases``: the
        model's name of a field → the form's), or above the form for the others."""
        for field, messages in error.message_dict.items():
            target = (aliases or {}).get(field, field)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)

    @property
    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every field error, for the summary at the top."""
        return [
            (self[name].auto_id, no_final_stop(self.fields[name].label), error)
            for name, errors in self.errors.items()
            if name in self.fields
            for error in errors
        ]
