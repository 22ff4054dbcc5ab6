"""The layering of the apps, checked on every module's imports (``cpf_portal.importgraph``;
``python -m cpf_portal.importgraph`` prints the graph).

Lowest first: cpf_portal base helpers (templatetags, http, forms, testing) < notifications
< accounts < catalogue < financing < dossiers < feature apps < project wiring (urls, settings,
celery, management commands). An app imports from its own layer or below, never above, and
two apps never import each other, even inside a function: a lazy import hides a cycle, it
does not remove it. Tests, factories and migrations may import anything.
"""

from cpf_portal import importgraph as ig

APPS = ig.apps()
IMPORTS = ig.all_imports()
EDGES = ig.graph(IMPORTS, APPS)


def listing(items) -> str:
    return "\n".join(str(item) for item in items)


def test_the_graph_sees_every_app_and_imports_inside_functions():
    assert {"accounts", "catalogue", "financing", "dossiers", "notifications", "cpf_portal"} <= set(APPS)
    assert ("dossiers", "financing") in EDGES and ("financing", "accounts") in EDGES
    source = "import os\nfrom . import models\n\ndef f():\n    from dossiers.services import dossier_transition\n"
    found = ig.imports_of(source, "catalogue.views", known={"catalogue.models"})
    assert [(i.target, i.lazy) for i in found] == [("os", False), ("catalogue.models", False), ("dossiers.services", True)]


def test_the_layers_are_ordered():
    assert [ig.rank(n) for n in ig.LAYERS] == sorted(ig.rank(n) for n in ig.LAYERS)
    assert ig.node_of("cpf_portal.templatetags.dsfr_extra", APPS) == ig.BASE
    assert ig.node_of("cpf_portal.settings", APPS) == ig.WIRING
    assert ig.node_of("django.db", APPS) is None


def test_no_app_imports_from_a_higher_layer():
    upward = ig.upward(EDGES)
    assert not upward, "\n".join(f"{a} → {b} :\n{listing(items)}" for (a, b), items in sorted(upward.items()))


def test_no_cycle_between_apps():
    assert ig.cycles(EDGES) == []


def test_accounts_does_not_import_catalogue():
    assert listing(EDGES.get(("accounts", "catalogue"), [])) == ""


def test_catalogue_does_not_import_dossiers():
    assert listing(EDGES.get(("catalogue", "dossiers"), [])) == ""


def test_workflow_and_services_do_not_import_each_other_lazily():
    """The workflow's effects must not reach back into the service that runs them."""
    assert listing(ig.lazy_between(IMPORTS, "dossiers.workflow", "dossiers.services")) == ""
