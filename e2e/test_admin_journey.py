"""The operators' admin in a browser: the DIF control page under the site's CSP, the
attestation beside the decision, sections in French, money in euros."""

import dataclasses
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from e2e.conftest import login
from financing import services
from financing.models import DifDeclaration
from financing.tests.factories import PNG_BYTES, attestation


def png_attestation(hours):
    scan = attestation(hours, file=SimpleUploadedFile("attestation.png", PNG_BYTES, content_type="image/png"))
    return dataclasses.replace(scan, content_type="image/png")


@pytest.mark.django_db(transaction=True)
def test_operator_checks_a_dif_attestation_beside_the_decision(page, live_server, operator, titulaire, settings):
    settings.CPF_DIF_DEADLINE = datetime.date(2099, 1, 1)
    declaration = services.dif_declare(account=services.account_for(titulaire), situation="un", attestations=[png_attestation(50)])
    console = []
    page.on("console", lambda message: console.append(message.text))
    login(page, live_server, operator.email)
    assert page.locator("#content-main h2, #content-main caption").first.inner_text().upper().startswith("COMPTES")
    page.get_by_role("link", name="Saisies DIF").first.click()
    page.goto(live_server.url + reverse("admin:financing_difdeclaration_review", args=[declaration.pk]))
    proof = page.get_by_role("img", name="Attestation DIF de Acme")
    decision = page.get_by_role("group", name="Décision")
    proof_box, decision_box = proof.bounding_box(), decision.bounding_box()
    assert proof_box["width"] > 300 and proof_box["x"] + proof_box["width"] <= decision_box["x"]  # side by side
    assert page.get_by_text("750,00\u00a0€").is_visible()
    page.get_by_label("Refuser l'attestation").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    assert page.get_by_text("Indiquez le motif du refus").is_visible()
    page.get_by_label("Motif du refus").fill("Attestation illisible")
    page.get_by_role("button", name="Enregistrer la décision").click()
    declaration.refresh_from_db()
    assert declaration.status == DifDeclaration.Status.REFUSEE
    assert not [m for m in console if "Content Security Policy" in m], console
