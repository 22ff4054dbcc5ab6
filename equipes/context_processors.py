from django.utils.functional import SimpleLazyObject

from .permissions import can


def team(request):
    """``can.<right>`` for the pages (read only when a template asks: one query, cached)."""
    return {"can": SimpleLazyObject(lambda: can(request))}
