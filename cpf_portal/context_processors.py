from django.conf import settings


def navigation(request):
    """The current URL's name and namespace, for aria-current in the menus (none on a 404)."""
    match = getattr(request, "resolver_match", None)
    return {
        "current_url_name": match.url_name if match else "",
        "current_namespace": match.namespace if match else "",
    }


def delays(request):
    """The delays of the rules (jours ouvrés, days), read from the same settings the rules
    use, so that no page writes a number the rules might not follow."""
    return {
        "delays": {
            "organisme_reply": settings.DOSSIER_ORGANISME_REPLY_WORKING_DAYS,
            "titulaire_reply": settings.DOSSIER_TITULAIRE_REPLY_WORKING_DAYS,
            "min_start": settings.DOSSIER_MIN_START_WORKING_DAYS,
            "retractation": settings.DOSSIER_RETRACTATION_WORKING_DAYS,
            "late_cancel": settings.DOSSIER_LATE_CANCEL_WORKING_DAYS,
            "validation": settings.DOSSIER_SERVICE_FAIT_VALIDATION_WORKING_DAYS,
            "entry_reminder": settings.DOSSIER_ENTRY_REMINDER_WORKING_DAYS,
            "refund_days": settings.CPF_REFUND_DAYS,
            "prerequisites_reply": settings.DOSSIER_PREREQUISITES_REPLY_DAYS,
        }
    }
