from django import template

from franceconnect import client

register = template.Library()


@register.inclusion_tag("franceconnect/_button.html", takes_context=True)
def franceconnect_button(context):
    """The DSFR « S'identifier avec FranceConnect » button, when FranceConnect is configured."""
    return {"enabled": client.enabled(), "csrf_token": context.get("csrf_token"), "next": context.get("next", "")}
