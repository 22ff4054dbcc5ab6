"""The operators' admin: business sections first, technical ones grouped apart under
« Technique », money in euros in every admin (``EurosAdminMixin``), the site's favicon and
stylesheet (``templates/admin/base_site.html``, no inline style: the CSP forbids them)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from .admin_mixins import EurosAdminMixin

# Business sections, in the order an operator works: people, their money, their dossiers,
# the offer, the organismes' money and teams, then the checks and the messages.
BUSINESS_ORDER = [
    "accounts",
    "financing",
    "dossiers",
    "evaluations",
    "interlocuteurs",
    "documents",
    "catalogue",
    "billing",
    "equipes",
    "securite",
    "notifications",
    "api",
    "franceconnect",
]
# Libraries' sections: kept, but apart and named in French.
TECHNICAL_NAMES = {
    "auditlog": "Journal d'audit",
    "axes": "Connexions et verrouillages (Axes)",
    "auth": "Groupes et permissions",
    "django_celery_beat": "Tâches périodiques (Celery beat)",
    "dsfr": "Configuration du design (DSFR)",
    "otp_static": "Double authentification : codes de secours",
    "otp_totp": "Double authentification : applications",
}
TECHNICAL_PREFIX = "Technique · "
# The libraries' models whose French names are wrong in their own translations (« Intervales »,
# « Tâches périodique »): our names, in every admin page (index, lists, breadcrumbs). Only the
# display changes: migrations read a model's declared options (``_meta.original_attrs``).
LIBRARY_MODEL_NAMES = {
    "django_celery_beat.intervalschedule": ("intervalle", "intervalles"),
    "django_celery_beat.periodictask": ("tâche périodique", "tâches périodiques"),
    "django_celery_beat.solarschedule": ("évènement solaire", "évènements solaires"),
    "django_celery_beat.clockedschedule": ("horaire", "horaires"),
    "django_celery_beat.crontabschedule": ("planification crontab", "planifications crontab"),
}


def with_euros(admin_class):
    if issubclass(admin_class, EurosAdminMixin):
        return admin_class
    return type(admin_class.__name__, (EurosAdminMixin, admin_class), {"__module__": admin_class.__module__})


class CpfAdminSite(admin.AdminSite):
    site_header = "Mon Compte Formation — administration"
    site_title = "Administration Mon Compte Formation"
    index_title = "Gestion du portail"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = with_euros(admin_class or admin.ModelAdmin)
        admin_class.inlines = [with_euros(inline) for inline in admin_class.inlines]
        for model in [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable:
            names = LIBRARY_MODEL_NAMES.get(model._meta.label_lower)
            if names:
                model._meta.verbose_name, model._meta.verbose_name_plural = names
        return super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] in TECHNICAL_NAMES:
                app["name"] = TECHNICAL_PREFIX + TECHNICAL_NAMES[app["app_label"]]

        def rank(app):
            label = app["app_label"]
            if label in BUSINESS_ORDER:
                return (0, BUSINESS_ORDER.index(label), "")
            if label in TECHNICAL_NAMES:
                return (2, 0, app["name"])
            return (1, 0, app["name"])

        return sorted(apps, key=rank)


class CpfAdminConfig(AdminConfig):
    default_site = "cpf_portal.admin_site.CpfAdminSite"
