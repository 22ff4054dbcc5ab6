"""Template helpers available in every template (declared as builtins in settings)."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from cpf_portal import money

register = template.Library()


euros = register.filter("euros", money.euros)


@register.filter(name="abs")
def absolute(value):
    return abs(value) if value not in (None, "") else value


@register.simple_tag
def breadcrumb(*items):
    """``{% breadcrumb "Mon compte" "accounts:home" "Mes informations" %}``: pairs of label and
    URL name (or URL), the last label being the current page."""
    *pairs, current = items
    links = []
    for index in range(0, len(pairs), 2):
        label, target = pairs[index], pairs[index + 1]
        url = target if target.startswith("/") else reverse(target)
        links.append((label, url))
    return mark_safe(render_to_string("components/breadcrumb.html", {"links": links, "current": current}))


@register.filter
def deadline_day(value) -> str:
    """A deadline at midnight is the end of the day before: « 24/11/2026 00:00 » → « 23/11/2026 »."""
    import datetime

    from django.utils import timezone

    if not value:
        return ""
    return (timezone.localtime(value) - datetime.timedelta(seconds=1)).strftime("%d/%m/%Y")


@register.filter
def pluriel(count, suffix: str = "s") -> str:
    """French plural: « 0 session », « 1 session », « 2 sessions » (Django's pluralize puts 0 in the plural)."""
    try:
        return suffix if abs(int(count)) >= 2 else ""
    except (TypeError, ValueError):
        return ""
