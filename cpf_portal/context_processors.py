from django.conf import settings


def navigation(request):
    """The current URL's name and namespace, for aria-current in the menus (none on a 404)."""
    match = getattr(request, "resolver_match", None)
    return {
        "current_url_name": match.url_name if match else "",
        "current_namespace": match.namespace if match else "",
    }


def working_days(request):
    """The dossier delays in jours ouvrés, from settings, for any page that states one
    (« {{ working_days.min_start }} jours ouvrés »): a template never writes the number."""
    return {
        "working_days": {
            "organisme_reply": settings.DOSSIER_ORGANISME_REPLY_WORKING_DAYS,
            "titulaire_reply": settings.DOSSIER_TITULAIRE_REPLY_WORKING_DAYS,
            "min_start": settings.DOSSIER_MIN_START_WORKING_DAYS,
            "retractation": settings.DOSSIER_RETRACTATION_WORKING_DAYS,
            "late_cancel": settings.DOSSIER_LATE_CANCEL_WORKING_DAYS,
            "validation": settings.DOSSIER_SERVICE_FAIT_VALIDATION_WORKING_DAYS,
            "entry_reminder": settings.DOSSIER_ENTRY_REMINDER_WORKING_DAYS,
        }
    }
