from django import template
from django.urls import reverse

from cpf_portal.money import euros
from financing import services

register = template.Library()


@register.inclusion_tag("components/link_tile.html", takes_context=True)
def rights_tile(context, col: str = ""):
    """The « Mes droits formation » tile with the droits disponibles (one aggregate query),
    for the pages of lower apps (« Mon compte ») and the home page."""
    available = services.available_for(context["request"].user)
    return {"url": reverse("financing:rights"), "title": "Mes droits formation", "detail": f"Droits disponibles : {euros(available)}", "col": col}
