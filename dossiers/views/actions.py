"""What the action endpoints share: the table of the forms each transition takes, and the
one view that runs a transition from a POST."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from cpf_portal.forms import CpfForm

from .. import services
from ..states import Actor, TransitionNotAllowed
from ..workflow import TRANSITIONS, available_transitions


@dataclass(frozen=True)
class Action:
    """How a page offers one transition: the form it posts, the payload the service gets,
    the message on success and where the person lands."""

    form: Callable  # (dossier, data) -> CpfForm
    payload: Callable[[CpfForm], dict] = lambda form: {}
    success: str = ""
    then: str = "detail"  # a URL name taking the numero, or a URL name without argument
    offered: Callable = lambda dossier: True  # shown on the page (the service checks again)


def open_actions(dossier, actor: Actor, table: dict[str, Action], bound: dict | None = None) -> dict[str, CpfForm]:
    """The forms of the transitions open to ``actor`` now, unbound unless given in ``bound``."""
    bound = bound or {}
    return {
        t.name: bound.get(t.name) or table[t.name].form(dossier, None)
        for t in available_transitions(dossier.status, actor)
        if t.name in table and table[t.name].offered(dossier)
    }


def failed_label(bound: dict) -> str:
    """The label of the action whose submitted form has errors (for the page's title)."""
    for name, form in bound.items():
        if getattr(form, "errors", None):
            return TRANSITIONS[name].label
    return ""


def run_action(request, *, dossier, name: str, actor: Actor, table: dict[str, Action], page: Callable, detail_url: str):
    """POST of one transition: validate its form (errors next to the fields, 400), then fire
    it through ``dossier_transition``. ``page(bound_forms, status)`` draws the dossier's page
    again; it is also what the person sees when the service refuses (the middleware)."""
    if name not in TRANSITIONS or name not in table or actor not in TRANSITIONS[name].actors:
        raise Http404("Action inconnue.")
    action = table[name]
    request.error_page = lambda status: page({}, status)
    form = action.form(dossier, request.POST)
    if not form.is_valid():
        if set(form.errors) <= {"version"}:
            raise TransitionNotAllowed("Cette action n'est plus possible : rechargez la page.")
        return page({name: form}, 400)
    services.dossier_transition(
        dossier_id=dossier.pk, name=name, actor=actor, by=request.user, payload=action.payload(form), expected_version=form.cleaned_data["version"]
    )
    messages.success(request, action.success.format(numero=dossier.numero))
    if action.then == "detail":
        return redirect(detail_url)
    return redirect(action.then)
