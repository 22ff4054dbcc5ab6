"""« Mes droits acquis chaque année » on « Mes droits formation »: the yearly declarations
(DSN, imported or simulated in the demo) each credit came from."""

from decimal import Decimal

from django import template

from financing.models import YearlyDeclaration
from financing.services import LEGAL_HOURS_PER_YEAR

register = template.Library()


def activity(declaration: YearlyDeclaration) -> str:
    """« Salarié, temps plein », « Salarié, 40 % d'un temps plein (au prorata) »…"""
    share = Decimal(declaration.hours_worked) / LEGAL_HOURS_PER_YEAR
    if share >= Decimal("0.97"):
        time = "temps plein"
    else:
        time = f"{round(share * 100)} % d'un temps plein"
        if declaration.status != YearlyDeclaration.Status.SALARIE or share < Decimal("0.5"):
            time += " (au prorata)"
    return f"{declaration.get_status_display()}, {time}"


@register.inclusion_tag("financing/_yearly_rights.html")
def yearly_rights(user):
    declarations = list(YearlyDeclaration.objects.filter(account__user=user).select_related("movement").order_by("-year"))
    return {
        "rows": [{"declaration": declaration, "activity": activity(declaration)} for declaration in declarations],
        "simulated": any(declaration.source == YearlyDeclaration.Source.SIMULATED for declaration in declarations),
    }
