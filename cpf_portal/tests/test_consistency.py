"""Conventions that check themselves: rules of STYLE.md that a reviewer would otherwise have
to remember, checked by reading the source, the templates and the URL configuration."""

import ast
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.template.utils import get_app_template_dirs
from django.urls import URLResolver, get_resolver, reverse

from cpf_portal import importgraph

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATES_DIR = BASE_DIR / "templates"
TEMPLATES = sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*") if p.is_file())
SOURCES = importgraph.source_files(BASE_DIR)  # every module but tests, migrations and conftest files


def relative(path: Path) -> str:
    return path.relative_to(BASE_DIR).as_posix()


# --- Dossier.status has one writer -----------------------------------------------------------

DOSSIER_SERVICE = {"dossiers/workflow.py", "dossiers/services.py"}


def status_writes() -> list[str]:
    """Assignments to a dossier's ``status`` and ``update(status=…)`` calls on dossiers, outside
    the dossier service."""
    found = []
    for path in SOURCES:
        name = relative(path)
        if name in DOSSIER_SERVICE:
            continue
        in_dossiers = name.startswith("dossiers/")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(item, ast.Attribute) and item.attr == "status":
                        owner = ast.unparse(item.value)
                        if in_dossiers or "dossier" in owner.lower() or owner == "locked":
                            found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
            if isinstance(node, ast.Call):
                call = ast.unparse(node.func)
                sets_status = any(k.arg == "status" for k in node.keywords) and call.endswith((".update", ".bulk_update"))
                if sets_status and (in_dossiers or "dossier" in call.lower()):
                    found.append(f"{name}:{node.lineno} {ast.unparse(node)[:120]}")
                if call == "setattr" and len(node.args) > 1 and ast.unparse(node.args[1]) in {"'status'", '"status"'} and in_dossiers:
                    found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_only_the_dossier_service_writes_a_dossiers_status():
    """A dossier changes state through ``dossiers.services.dossier_transition`` only, which runs
    the transition declared in ``dossiers/workflow.py`` under a row lock, with its history row.

    Scope: Email, Payment and DifDeclaration have ``status`` fields of their own, written by their
    own services; so the rule flags, outside those two files, (1) any ``.status =`` inside the
    ``dossiers`` app, (2) elsewhere, ``<x>.status =`` where ``x`` names a dossier (``dossier``,
    ``locked``, ``self.dossier``…), and (3) ``.update(status=…)`` on a dossier queryset."""
    assert status_writes() == []


def test_the_status_rule_sees_what_it_forbids(tmp_path, monkeypatch):
    module = tmp_path / "dossiers" / "views.py"
    module.parent.mkdir()
    module.write_text(
        "def f(dossier, locked):\n    dossier.status = 'sent'\n    locked.status = 'x'\n    Dossier.objects.filter(pk=1).update(status='x')\n"
    )
    monkeypatch.setattr(f"{__name__}.SOURCES", [module])
    monkeypatch.setattr(f"{__name__}.BASE_DIR", tmp_path)
    assert [line.split()[0] for line in status_writes()] == ["dossiers/views.py:2", "dossiers/views.py:3", "dossiers/views.py:4"]


def billing_state_writes() -> list[str]:
    """Assignments to ``.billing_state`` and ``update(billing_state=…)`` outside the billing table."""
    found = []
    for path in SOURCES:
        name = relative(path)
        if name == "dossiers/billing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(item, ast.Attribute) and item.attr == "billing_state":
                        found.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Call) and any(k.arg == "billing_state" for k in node.keywords) and ast.unparse(node.func).endswith(".update"):
                found.append(f"{name}:{node.lineno}")
    return found


def test_only_the_billing_table_moves_a_dossiers_billing_state(tmp_path, monkeypatch):
    """« Pas facturable » → … → « Payé » moves through ``dossiers.billing.move`` only (its table
    of sources and targets); the rule also sees what it forbids."""
    assert billing_state_writes() == []
    module = tmp_path / "billing" / "views.py"
    module.parent.mkdir()
    module.write_text("def f(dossier):\n    dossier.billing_state = 'paid'\n    Dossier.objects.update(billing_state='paid')\n")
    monkeypatch.setattr(f"{__name__}.SOURCES", [module])
    monkeypatch.setattr(f"{__name__}.BASE_DIR", tmp_path)
    assert billing_state_writes() == ["billing/views.py:2", "billing/views.py:3"]


# --- Delays come from settings ----------------------------------------------------------------

WORKING_DAYS_LITERAL = re.compile(r"\d+(?:\s|&nbsp;|&#160;|\u00a0)*jours?\s+ouvrés?", re.IGNORECASE)


def test_no_template_writes_a_number_of_jours_ouvres():
    """« 11 jours ouvrés » in a template would go stale when DOSSIER_MIN_START_WORKING_DAYS
    changes: write ``{{ delays.min_start }} jours ouvrés`` instead (the context processor
    ``cpf_portal.context_processors.delays`` reads the settings the rules use)."""
    found = []
    for name in TEMPLATES:
        for number, line in enumerate((TEMPLATES_DIR / name).read_text(encoding="utf-8").splitlines(), 1):
            found += [f"templates/{name}:{number} « {match} »" for match in WORKING_DAYS_LITERAL.findall(line)]
    assert found == []


def test_the_literal_rule_sees_a_number_of_jours_ouvres():
    assert WORKING_DAYS_LITERAL.search("ne peut pas commencer moins de 11&nbsp;jours ouvrés")
    assert WORKING_DAYS_LITERAL.search("jusqu'à 7 jours ouvrés avant le début")
    assert WORKING_DAYS_LITERAL.search("1 jour ouvré")
    assert not WORKING_DAYS_LITERAL.search("moins de {{ delays.min_start }} jours ouvrés")


# --- Every template is used -------------------------------------------------------------------

TEMPLATE_TAG = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")


def template_references() -> dict[str, str]:
    """Template name → where it is used: a string in the source (views, ``template_name``,
    ``render_to_string``, the error handlers of cpf_portal.views), an e-mail template prefix
    (``email_queue(template="x")`` renders ``x_subject.txt`` and ``x_body.txt``), a template
    folder named in the source (``"dossiers/notifications"``: the code picks a template inside
    it at run time, every template of the folder counts as used), an ``{% include %}`` /
    ``{% extends %}``, or an override of a template that Django or an installed app renders
    itself (form widgets through FORM_RENDERER, the admin)."""
    known = set(TEMPLATES)
    folders = {name.rsplit("/", 1)[0] for name in known if "/" in name}
    used: dict[str, str] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                where = f"{relative(path)}:{node.lineno}"
                for candidate in (value, f"{value}_subject.txt", f"{value}_body.txt"):
                    if candidate in known:
                        used.setdefault(candidate, where)
                if "/" in value.strip("/") and value.strip("/") in folders:
                    folder = value.strip("/") + "/"
                    for name in known:
                        if name.startswith(folder):
                            used.setdefault(name, where)
    for name in TEMPLATES:
        for reference in TEMPLATE_TAG.findall((TEMPLATES_DIR / name).read_text(encoding="utf-8")):
            used.setdefault(reference, f"templates/{name}")
    shipped = [Path(d) for d in get_app_template_dirs("templates")]
    for name in TEMPLATES:
        owner = next((d for d in shipped if (d / name).is_file() and d != TEMPLATES_DIR), None)
        if owner is not None:
            used.setdefault(name, f"override of {owner}")
    return used


def test_every_template_is_used():
    used = template_references()
    assert [name for name in TEMPLATES if name not in used] == []


def test_the_template_scan_knows_every_kind_of_reference():
    used = template_references()
    assert used["layouts/base.html"].startswith("templates/")  # extends
    assert used["accounts/emails/activation_code_body.txt"].startswith("accounts/services.py")  # e-mail prefix
    assert used["404.html"].startswith("cpf_portal/views.py")  # error handler
    assert used["django/forms/widgets/attrs.html"].startswith("override of")  # form renderer


# --- Every URL answers an anonymous visitor ---------------------------------------------------

VALUES = {"numero": "1234567890", "uidb64": "MQ", "token": "lien-perime"}


def value_for(name: str, converter=None, regex: str = "") -> str:
    if converter is not None and type(converter).__name__ == "UUIDConverter":
        return str(uuid.uuid4())
    if converter is not None and type(converter).__name__ == "IntConverter":
        return "1"
    if name in VALUES:
        return VALUES[name]
    choices = re.search(rf"\(\?P<{name}>([^()]*)\)", regex)
    if choices and "|" in choices.group(1):  # the admin's (?P<app_label>accounts|auth|…)
        return choices.group(1).split("|")[0]
    return "1"


def url_patterns(resolver=None, namespace=""):
    """(name, pattern) of every named URL pattern, the admin's included. The admin's unnamed
    catch-all (a 404 for anything unknown under /admin/) has no name and is not listed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def sample_url(name: str, pattern) -> tuple[str, bool]:
    """A URL for the pattern, with plausible made-up values; and whether it names an object."""
    route = pattern.pattern
    converters = getattr(route, "converters", {})
    regex = route.regex.pattern
    names = list(converters) or list(route.regex.groupindex)
    kwargs = {n: value_for(n, converters.get(n), regex) for n in names}
    return reverse(name, kwargs=kwargs), bool(kwargs)


def test_every_url_answers_an_anonymous_get(client, db):
    """200 (public page), 302 (to the login page) or 405 (a POST-only action). A URL that names an
    object (a uuid, a 10-digit numero…) made up for the test may also answer 404: the object does
    not exist, and the view looked for it before anything else (the public formation page). The
    organismes' API answers 401 (problem+json) to a request without its key."""
    problems, checked = [], 0
    for name, pattern in url_patterns():
        url, names_an_object = sample_url(name, pattern)
        allowed = {200, 302, 405} | ({404} if names_an_object else set()) | ({401} if name.startswith("api-v1:") else set())
        try:
            status = client.get(url).status_code
        except Exception as exc:  # a 500: the view raised
            problems.append(f"{name} {url} → {type(exc).__name__}: {exc}")
            continue
        checked += 1
        if status not in allowed:
            problems.append(f"{name} {url} → {status}")
    assert problems == []
    assert checked > 50  # the project's URLs and the admin's


@pytest.mark.parametrize("name", ["home", "catalogue:search", "accounts:login", "dossiers:list", "admin:index"])
def test_the_url_list_holds_the_main_pages(name):
    assert name in dict(url_patterns())


def test_django_system_checks_pass():
    """The admin's registrations (autocomplete targets), models and settings as Django checks them."""
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def test_every_folder_of_tests_is_in_the_suite():
    """`make test` runs pytest's ``testpaths``: an app whose tests are not listed there would
    never run in CI."""
    import configparser

    from django.conf import settings

    config = configparser.ConfigParser()
    config.read(settings.BASE_DIR / "pytest.ini")
    listed = set(config["pytest"]["testpaths"].split())
    folders = {path.parent.parent.name for path in settings.BASE_DIR.glob("*/tests/__init__.py")}
    assert folders - listed == set()
    assert (settings.BASE_DIR / "e2e").is_dir() and "e2e" in listed
