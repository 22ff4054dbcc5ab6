"""Template helpers available in every template (declared as builtins in settings)."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from cpf_portal import money

register = template.Library()


euros = register.filter("euros", money.euros)


@register.filter
def no_final_stop(value) -> str:
    """« J'accepte … de 103,20 €. » → « J'accepte … de 103,20 € »: a sentence about to be
    followed by « : » or by another sentence's stop, so the punctuation is never doubled."""
    return str(value or "").rstrip().rstrip(".:;!?…").rstrip()


@register.filter
def telephone(value) -> str:
    """A French phone number in pairs of digits: « 0612345678 » / « +33 6 12 34 56 78 » →
    « 06 12 34 56 78 ». Anything that is not ten digits is shown as typed."""
    digits = "".join(char for char in str(value or "") if char.isdigit() or char == "+")
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    if len(digits) != 10 or not digits.isdigit():
        return str(value or "")
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


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
