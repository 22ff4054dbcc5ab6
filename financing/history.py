"""« Historique de mes droits », grouped: the movements of one dossier (blocage, déblocage,
débit, its abondements) form one entry with its movements beneath; every other movement is
an entry of its own. Entries are paginated, newest first, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, F, Max, Q
from django.db.models.functions import Coalesce

from .models import Movement

PER_PAGE = 20


@dataclass
class Entry:
    dossier: object = None  # the dossier of a group, None for a single movement
    movements: list = field(default_factory=list)  # oldest first

    @property
    def total_cents(self) -> int:
        return sum(movement.amount_cents for movement in self.movements)


def history_page(account, number) -> tuple[Page, list[Entry]]:
    """The page ``number`` of the account's history entries: three queries (count, keys,
    movements) whatever the page holds."""
    # A dossier's movements share the key −dossier_id; any other movement is keyed by its id.
    keys = (
        Movement.objects.filter(account=account)
        .annotate(group=Coalesce(-F("dossier_id"), F("id"), output_field=BigIntegerField()))
        .values("group")
        .annotate(last=Max("created_at"), last_id=Max("id"))
        .order_by("-last", "-last_id")
    )
    page = Paginator(keys, PER_PAGE).get_page(number)
    groups = [row["group"] for row in page.object_list]
    entries = {group: Entry() for group in groups}
    movements = (
        Movement.objects.filter(account=account)
        .filter(Q(dossier_id__in=[-group for group in groups if group < 0]) | Q(id__in=[group for group in groups if group > 0]))
        .select_related("dossier__formation")
        .order_by("created_at", "id")
    )
    for movement in movements:
        entry = entries[-movement.dossier_id if movement.dossier_id else movement.pk]
        entry.dossier = movement.dossier
        entry.movements.append(movement)
    return page, list(entries.values())
