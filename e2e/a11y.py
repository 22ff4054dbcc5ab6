"""Accessibility and validity checks used by the browser tests: axe-core in the page, the
Nu HTML checker (vnu.jar) on the HTML the server sent. Both come from npm (node_modules/,
installed by `make test`), run offline; vnu runs on the machine's Java."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
AXE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
VNU = BASE_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# WCAG 2.0, 2.1 and 2.2, levels A and AA — what RGAA 4.1 builds on — plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """Violations of any impact on the page as it is now (needs a context with bypass_csp)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]} for v in result]


def vnu_errors(documents: dict[str, str]) -> dict[str, list[str]]:
    """{name: [error, …]} for each HTML document, checked in one run of the Nu validator."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Java est nécessaire au validateur HTML (vnu.jar) : apt-get install default-jre-headless")
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for index, (name, html) in enumerate(documents.items()):
            path = Path(directory) / f"page-{index:03d}.html"
            path.write_text(html, encoding="utf-8")
            paths[str(path)] = name
        completed = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json", *paths], capture_output=True, text=True, timeout=300)
        report = json.loads(completed.stderr or "{}")
    errors: dict[str, list[str]] = {name: [] for name in documents}
    for message in report.get("messages", []):
        name = paths.get(message.get("url", "").removeprefix("file:"), "?")
        errors.setdefault(name, []).append(f"l.{message.get('lastLine')}: {message.get('message')}")
    return errors


SITE = " – Mon Compte Formation"
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 720}


# How far the page scrolls sideways, and the innermost elements that stick out.
OVERFLOW_JS = """() => {
  const width = document.documentElement.scrollWidth - window.innerWidth;
  const culprits = [];
  if (width > 0) {
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.right > window.innerWidth + 1 && box.width > 0 && ![...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1)) {
        culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' « ' + (el.textContent || '').trim().slice(0, 40) + ' »');
        if (culprits.length >= 8) break;
      }
    }
  }
  return {width, culprits};
}"""


class Audit:
    """Checks every page a journey passes through, as it is on screen: axe-core at desktop
    width and at 320 px, no horizontal scrolling at 320 px, a French language, a title of
    the form « Étape – Mon Compte Formation »; then the Nu validator on the HTML the server
    sent for each of them, in one run. Screenshots at both widths go to e2e/screenshots/.

    The page must come from a context with ``bypass_csp=True`` (axe is injected)."""

    def __init__(self, page, journey: str, screenshots: Path | None = None):
        self.page = page
        self.journey = journey
        self.screenshots = screenshots
        self.documents: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.problems: list[str] = []
        self._last_document = None
        page.set_viewport_size(DESKTOP)
        page.on("response", self._on_response)

    def _on_response(self, response):
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self._last_document = response

    def visit(self, url: str, name: str):
        self.page.goto(url)
        self.check(name)

    def check(self, name: str):
        """Audit the page now on screen (after a navigation: a link, a submitted form)."""
        assert name not in self.documents, f"deux pages nommées {name!r}"
        page = self.page
        page.wait_for_load_state("load")
        response = self._last_document
        assert response is not None and response.url.split("#")[0] == page.url.split("#")[0], f"{name}: pas de document chargé"
        self.documents[name] = response.text()
        self.titles[name] = page.title()
        self.paths[name] = page.url.split("?")[0].split("#")[0]
        if page.get_attribute("html", "lang") != "fr":
            self.problems.append(f"{name}: langue absente")
        if not self.titles[name].endswith(SITE):
            self.problems.append(f"{name}: titre « {self.titles[name]} » sans « {SITE.strip()} »")
        for width_name, size in (("bureau", DESKTOP), ("320 px", NARROW)):
            page.set_viewport_size(size)
            for violation in axe_violations(page):
                self.problems.append(
                    f"{name} ({width_name}): axe {violation['id']} [{violation['impact']}] {violation['help']} {violation['targets']}"
                )
            if size is NARROW:
                overflow = page.evaluate(OVERFLOW_JS)
                if overflow["width"] > 0:
                    self.problems.append(f"{name}: défilement horizontal de {overflow['width']} px à 320 px de large, dû à {overflow['culprits']}")
            if self.screenshots is not None:
                self.screenshots.mkdir(exist_ok=True)
                suffix = "" if size is DESKTOP else "-320px"
                page.screenshot(path=str(self.screenshots / f"{self.journey}-{name}{suffix}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    def assert_clean(self):
        """Zero axe violations, zero Nu errors, no horizontal scroll, and one title per page."""
        for name, errors in vnu_errors(self.documents).items():
            self.problems.extend(f"{name}: HTML {error}" for error in errors)
        by_title: dict[str, set[str]] = {}
        for name, title in self.titles.items():
            by_title.setdefault(title, set()).add(self.paths[name])
        for title, paths in by_title.items():
            if len(paths) > 1:
                self.problems.append(f"titre « {title} » partagé par {sorted(paths)}")
        assert not self.problems, f"{len(self.problems)} problème(s) sur {len(self.documents)} pages :\n" + "\n".join(self.problems)
        return len(self.documents)
