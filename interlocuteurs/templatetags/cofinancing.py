"""The « Financement complémentaire » section of the titulaire's dossier page, loaded by
templates/dossiers/detail.html (dossiers does not import this app)."""

from django import template

from interlocuteurs.forms import CofinancingRequestForm
from interlocuteurs.models import OPEN_DOSSIER_STATES, CofinancingRequest
from interlocuteurs.services import request_refusal

register = template.Library()


@register.inclusion_tag("interlocuteurs/_cofinancing_section.html", takes_context=True)
def cofinancing_section(context, dossier):
    """The titulaire's requests on ``dossier`` with their answers, and the request form when
    he may ask (sent or proposed, something left to pay, an interlocuteur that finances)."""
    user = context["request"].user
    requests = list(CofinancingRequest.objects.filter(dossier=dossier).select_related("structure", "abondement").order_by("-created_at", "-id"))
    is_open = dossier.status in OPEN_DOSSIER_STATES
    split = context.get("split")
    reste = split.reste_a_payer_cents if split is not None else dossier.reste_a_payer_cents
    pending = next((item for item in requests if item.is_pending), None)
    refusal = request_refusal(dossier, user, reste_a_payer_cents=reste) if is_open and pending is None else ""
    return {
        "show": is_open or bool(requests),
        "dossier": dossier,
        "requests": requests,
        "is_open": is_open,
        "pending": pending,
        "refusal": refusal,
        "nothing_to_pay": reste <= 0,
        "no_interlocuteur": user.interlocuteur_id is None,
        "form": CofinancingRequestForm(prefix="cofi") if is_open and pending is None and not refusal else None,
        "structure": user.interlocuteur,
        "csrf_token": context.get("csrf_token"),
    }
