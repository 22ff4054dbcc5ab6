"""The organismes' API: keys (hash, scopes, expiry, revocation, last use), isolation between
organismes, transitions equal to the pages', problem+json errors, idempotency, rate limits."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import keys
from api.models import ApiKey, ApiWrite, digest
from catalogue.tests.factories import SessionFactory
from dossiers.models import DossierEvent
from dossiers.tests import factories as f
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def make_key(organisme, user, scopes=("dossiers", "catalogue", "facturation"), **kwargs):
    key, plain = keys.key_create(organisme=organisme, name="CRM", scopes=list(scopes), expires_at=kwargs.get("expires_at"), by=user)
    return key, plain


def pdf_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("feuille.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")


class Api:
    """A client of the API with a key."""

    def __init__(self, plain: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {plain}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body=None, **headers):
        return self.client.post(f"/api/v1{path}", body or {}, content_type="application/json", headers={**self.headers, **headers})


@pytest.fixture
def api(organisme, organisme_user):
    return Api(make_key(organisme, organisme_user)[1])


def test_a_key_is_shown_once_stored_hashed_and_records_its_last_use(organisme, organisme_user):
    key, plain = make_key(organisme, organisme_user)
    assert plain.startswith(f"cpf_{key.prefix}_") and key.key_digest == digest(plain)
    assert plain not in str(ApiKey.objects.filter(pk=key.pk).values().get())  # never the key itself
    assert key.last_used_at is None
    response = Api(plain).get("/moi")
    assert response.status_code == 200 and response.json()["siret"] == organisme.siret
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "missing"])
def test_a_wrong_revoked_or_expired_key_gets_401_as_problem_json(organisme, organisme_user, state):
    key, plain = make_key(organisme, organisme_user)
    if state == "revoked":
        keys.key_revoke(key=key, by=organisme_user)
    if state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    api = Api(plain + "x" if state == "unknown" else plain)
    if state == "missing":
        api.headers = {}
    response = api.get("/dossiers")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Clé d'API absente ou invalide"


def test_a_missing_scope_gets_403(organisme, organisme_user, session):
    lecture = Api(make_key(organisme, organisme_user, scopes=["lecture"])[1])
    assert lecture.get("/dossiers").status_code == 200
    assert lecture.get("/formations").status_code == 200
    response = lecture.post(f"/sessions/{session.public_id}/ouverture", {"active": False})
    assert response.status_code == 403 and "périmètre" in response.json()["detail"]
    catalogue_only = Api(make_key(organisme, organisme_user, scopes=["catalogue"])[1])
    assert catalogue_only.get("/dossiers").status_code == 403
    assert catalogue_only.get("/factures").status_code == 403
    assert catalogue_only.post(f"/sessions/{session.public_id}/ouverture", {"active": False}).status_code == 200
    session.refresh_from_db()
    assert not session.active


def test_another_organisme_s_objects_are_404_on_every_endpoint(
    api, titulaire_with_rights, other_organisme, other_organisme_user, organisme_user, session
):
    theirs = f.sent(titulaire_with_rights, f.session_for(other_organisme))
    their_session = theirs.session
    urls = [
        ("get", f"/formations/{their_session.formation.public_id}"),
        ("get", f"/actions/{their_session.action.public_id}"),
        ("get", f"/sessions/{their_session.public_id}"),
        ("get", f"/dossiers/{theirs.numero}"),
        ("post", f"/dossiers/{theirs.numero}/refuse"),
        ("post", f"/sessions/{their_session.public_id}/ouverture"),
        ("post", f"/formations/{their_session.formation.public_id}/publication"),
        ("put", f"/formations/{their_session.formation.public_id}"),
        ("post", f"/formations/{their_session.formation.public_id}/actions"),
        ("put", f"/actions/{their_session.action.public_id}"),
        ("post", f"/actions/{their_session.action.public_id}/sessions"),
        ("put", f"/sessions/{their_session.public_id}"),
        ("post", f"/dossiers/{theirs.numero}/justificatifs"),
        ("get", "/factures/000001"),
        ("get", "/factures/000001/pdf"),
        ("post", "/factures"),
    ]
    for method, url in urls:
        body = {
            "active": False,
            "version": theirs.version,
            "motive": "Session complète",
            "code": "X",
            "intitule": "X",
            "modalite": "distance",
            "duree_heures": 7,
            "prix": "10",
            "dossiers": [theirs.numero],
        }
        if method == "get":
            response = api.get(url)
        elif method == "put":
            response = api.client.put(f"/api/v1{url}", body, content_type="application/json", headers=api.headers)
        elif url.endswith("justificatifs"):
            response = api.client.post(f"/api/v1{url}", {"kind": "autre", "file": pdf_upload()}, headers=api.headers)
        else:
            response = api.post(url, body)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json", url
    assert theirs.numero not in api.get("/dossiers").content.decode()
    theirs.refresh_from_db()
    their_session.refresh_from_db()
    assert theirs.status == "sent" and their_session.active


def test_a_transition_through_the_api_equals_the_same_through_the_page(client, api, titulaire_with_rights, organisme_user, organisme):
    by_api = f.sent(titulaire_with_rights, f.session_for(organisme))
    by_page = f.sent(titulaire_with_rights, f.session_for(organisme))
    body = {"version": by_api.version, "price": "800,00", "start_date": by_api.start_date, "end_date": by_api.end_date, "duree_heures": 12}
    response = api.post(f"/dossiers/{by_api.numero}/propose", body)
    assert response.status_code == 200, response.content
    client.force_login(organisme_user)
    form = {**body, "version": by_page.version, "start_date": by_page.start_date.isoformat(), "end_date": by_page.end_date.isoformat()}
    assert client.post(reverse("dossiers:organisme-action", args=[by_page.numero, "propose"]), form).status_code == 302
    by_api.refresh_from_db()
    by_page.refresh_from_db()
    fields = ("status", "version", "proposed_price_cents", "proposed_duree_heures", "reste_a_payer_cents", "droits_cents", "deadline_at")
    assert [getattr(by_api, name) for name in fields[:-1]] == [getattr(by_page, name) for name in fields[:-1]]
    assert by_api.status == "proposed" and by_api.proposed_price_cents == 80_000
    events = [list(DossierEvent.objects.filter(dossier=d).values_list("transition", "to_status", "actor_role")) for d in (by_api, by_page)]
    assert events[0] == events[1]
    told = [Notification.objects.filter(user=titulaire_with_rights, url__contains=d.numero).count() for d in (by_api, by_page)]
    assert told[0] == told[1] >= 2
    detail = response.json()
    assert detail["status"]["code"] == "proposed" and [h["transition"] for h in detail["history"]][-1] == "propose"
    assert detail["financing"]["price_cents"] == 80_000


def test_bad_input_and_stale_versions_get_the_page_s_messages(api, titulaire_with_rights, organisme):
    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    response = api.post(f"/dossiers/{dossier.numero}/refuse", {"version": dossier.version, "motive": "Autre motif"})
    assert response.status_code == 400 and response.json()["errors"] == {"details": ["Précisez le motif."]}
    response = api.post(f"/dossiers/{dossier.numero}/refuse", {"version": dossier.version - 1, "motive": "Session complète"})
    assert response.status_code == 409
    response = api.post(f"/dossiers/{dossier.numero}/refuse", {"motive": "Session complète"}, **{"If-Match": f'"{dossier.version}"'})
    assert response.status_code == 200 and response.json()["status"]["code"] == "refused_by_organisme"
    response = api.post(f"/dossiers/{dossier.numero}/enter", {"version": dossier.version + 1})
    assert response.status_code == 409 and "plus possible" in response.json()["detail"]
    assert api.post(f"/dossiers/{dossier.numero}/inventee", {"version": 1}).status_code == 404
    response = api.get("/dossiers", page_size="beaucoup")
    assert response.status_code == 422 and response.json()["errors"] == {"page_size": ["Saisissez un nombre entier."]}


def test_a_retried_request_with_the_same_idempotency_key_fires_once(api, titulaire_with_rights, organisme):
    dossier = f.sent(titulaire_with_rights, f.session_for(organisme))
    body = {"version": dossier.version, "motive": "Session complète"}
    first = api.post(f"/dossiers/{dossier.numero}/refuse", body, **{"Idempotency-Key": "refus-1"})
    again = api.post(f"/dossiers/{dossier.numero}/refuse", body, **{"Idempotency-Key": "refus-1"})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    assert DossierEvent.objects.filter(dossier=dossier, transition="refuse").count() == 1
    other = api.post(f"/dossiers/{dossier.numero}/refuse", {**body, "motive": "Autre motif"}, **{"Idempotency-Key": "refus-1"})
    assert other.status_code == 422 and "autre requête" in other.json()["detail"]
    # Every write is recorded with its key; a write without the header too.
    api.post(f"/dossiers/{dossier.numero}/enter", {"version": 99})
    writes = list(ApiWrite.objects.order_by("created_at").values_list("path", "status_code", "idempotency_key"))
    assert writes == [(f"/api/v1/dossiers/{dossier.numero}/refuse", 200, "refus-1"), (f"/api/v1/dossiers/{dossier.numero}/enter", 409, "")]


def test_too_many_requests_get_429_with_retry_after(api, settings):
    settings.CPF_API_RATE = "3/m"
    assert [api.get("/moi").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/moi")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"


def test_lists_are_cursor_paginated_and_filtered(api, titulaire_with_rights, organisme, organisme_user, django_assert_max_num_queries):
    session = f.session_for(organisme)
    sent = [f.sent(titulaire_with_rights, SessionFactory(action=session.action)) for _ in range(3)]
    f.proposed(titulaire_with_rights, SessionFactory(action=session.action), organisme_user)
    page = api.get("/dossiers", page_size=2).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = Client().get(page["next"], headers=api.headers).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    assert {d["numero"] for d in api.get("/dossiers", status="sent").json()["results"]} == {d.numero for d in sent}
    with django_assert_max_num_queries(8):
        assert api.get("/dossiers").status_code == 200
    since = timezone.now().isoformat()
    assert api.get("/dossiers", updated_since=since).json()["results"] == []
    # Any offset Python reads (found by the contract test: +16:05 was a 500), an impossible moment a 422.
    assert len(api.get("/dossiers", updated_since="0249-08-04T11:57:27+16:05").json()["results"]) == 4
    response = api.get("/dossiers", updated_since="0001-01-01T00:00:00+10:00")
    assert response.status_code == 422 and "updated_since" in response.json()["errors"]


def test_the_openapi_document_describes_every_operation(client):
    import schemathesis

    document = client.get("/api/v1/openapi.json").json()
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3 meta-schema
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert {"/api/v1/dossiers", "/api/v1/dossiers/{numero}/{transition}", "/api/v1/formations", "/api/v1/factures"} <= set(paths)
    assert "401" in paths["/api/v1/dossiers"]["get"]["responses"]
    page = client.get(reverse("api:docs")).content.decode()
    assert "GET /api/v1/dossiers" in page and "X-CPF-Signature" in page


def test_demo_key_is_printed_and_works(db):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("load_demo", formations=20, stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "Clé d'API" in line)
    plain = line.split()[-1]
    assert Api(plain).get("/moi").json()["organisme"] == "CP-FORMATION"
    assert Api(plain).get("/dossiers").json()["results"]


def test_the_offer_is_written_through_the_pages_forms(api, organisme):
    from catalogue.models import Formation
    from catalogue.tests.factories import CertificationFactory, commune

    CertificationFactory(type="RS", code="5367")
    commune("metz")
    response = api.post("/formations", {"code": "ANG-B2", "intitule": "Anglais B2", "certification_type": "RS", "certification_code": "RS5367"})
    assert response.status_code == 201, response.content
    formation = Formation.objects.get(numero=f"{organisme.siret}_ANG-B2")
    assert response.json()["certification"]["code"] == "RS5367"
    action = {"modalite": "presentiel", "lieu": "Metz", "rythmes": ["soiree"], "duree_heures": 30, "prix": "870,00"}
    response = api.post(f"/formations/{formation.public_id}/actions", action)
    assert response.status_code == 201 and response.json()["price_cents"] == 87_000
    action_id = response.json()["id"]
    start = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    end = (timezone.localdate() + datetime.timedelta(days=25)).isoformat()
    response = api.post(f"/actions/{action_id}/sessions", {"start_date": start, "end_date": end, "places": 8})
    assert response.status_code == 201 and response.json()["places"] == 8
    session = formation.sessions.get()
    assert session.price_cents == 87_000 and session.commune.name == "Metz"
    response = api.client.put(f"/api/v1/actions/{action_id}", {**action, "prix": "990"}, content_type="application/json", headers=api.headers)
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.price_cents == 99_000
    # The forms' messages, next to their fields; nothing written.
    response = api.post(f"/formations/{formation.public_id}/actions", {**action, "lieu": "", "duree_heures": 0})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "duree_heures": ["La durée doit être d'au moins 1 heure."],
        "lieu": ["Indiquez la commune où se déroule l'action (ou la modalité « À distance »)."],
    }
    assert formation.actions.count() == 1
    response = api.post("/formations", {"code": "ANG-B2", "intitule": "Encore"})
    assert response.status_code == 400 and response.json()["errors"]["code"] == ["Vous avez déjà une formation avec ce code."]


def test_invoices_are_issued_and_downloaded(api, organisme, organisme_user):
    from billing import services as billing_services
    from billing.tests.conftest import RIB, finished

    billing_services.bank_account_save(organisme=organisme, by=organisme_user, **RIB)
    dossier = finished(organisme_user, f.session_for(organisme))
    assert [d["numero"] for d in api.get("/a-facturer").json()["results"]] == [dossier.numero]
    response = api.post("/factures", {"dossiers": [dossier.numero]})
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert api.get(f"/factures/{number}").json()["total_ttc_cents"] == dossier.billable_cents
    pdf = api.get(f"/factures/{number}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert api.get("/a-facturer").json()["results"] == []
    assert api.post("/factures", {"dossiers": ["0000000000"]}).status_code == 404


@pytest.mark.parametrize(
    ("status", "transition", "body"),
    [
        ("sent", "refuse", {"motive": "Session complète"}),
        ("accepted", "enter", {}),
        ("accepted", "no_show", {}),
        ("in_training", "declare_service_done", {"exit_reason": "complete", "completion_rate": 100}),
    ],
)
def test_each_transition_through_the_api_equals_the_page(
    client, api, titulaire_with_rights, other_titulaire, organisme_user, organisme, status, transition, body
):
    import time_machine

    from conftest import RIGHTS_CENTS
    from financing.models import Movement

    f.give_rights(other_titulaire, RIGHTS_CENTS)  # the same rights: the same split
    made = [
        f.dossier_in(status, titulaire=person, session=f.session_for(organisme), organisme_user=organisme_user)
        for person in (titulaire_with_rights, other_titulaire)
    ]
    by_api, by_page = made
    with time_machine.travel(f.after_start(by_api, days=3) if status != "sent" else timezone.now(), tick=False):
        extra = {"exit_date": timezone.localdate().isoformat()} if transition == "declare_service_done" else {}
        response = api.post(f"/dossiers/{by_api.numero}/{transition}", {**body, **extra, "version": by_api.version})
        assert response.status_code == 200, response.content
        client.force_login(organisme_user)
        page = client.post(reverse("dossiers:organisme-action", args=[by_page.numero, transition]), {**body, **extra, "version": by_page.version})
        assert page.status_code == 302
    for dossier in made:
        dossier.refresh_from_db()
    fields = ("status", "version", "billing_state", "billable_cents", "locked_cents", "consumed_cents", "refusal_reason", "completion_rate")
    assert [getattr(by_api, name) for name in fields] == [getattr(by_page, name) for name in fields]
    ledger = [sorted(Movement.objects.filter(dossier=d).values_list("kind", "amount_cents")) for d in made]
    assert ledger[0] == ledger[1]
    history = [list(DossierEvent.objects.filter(dossier=d).order_by("id").values_list("transition", "to_status")) for d in made]
    assert history[0] == history[1] and history[0][-1][0] == transition
    told = [
        sorted(title.replace(d.numero, "N") for title in Notification.objects.filter(user=d.titulaire).values_list("title", flat=True)) for d in made
    ]
    assert told[0] == told[1] and told[0]


def test_a_proof_is_uploaded_with_the_page_s_checks(api, titulaire_with_rights, organisme, organisme_user):
    dossier = f.dossier_in("in_training", titulaire=titulaire_with_rights, session=f.session_for(organisme), organisme_user=organisme_user)
    url = f"/api/v1/dossiers/{dossier.numero}/justificatifs"
    response = api.client.post(url, {"kind": "emargement", "file": pdf_upload()}, headers=api.headers)
    assert response.status_code == 201, response.content
    assert response.json()["kind"]["code"] == "emargement" and response.json()["content_type"] == "application/pdf"
    assert dossier.proofs.count() == 1
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("feuille.pdf", b"MZ pas un PDF", content_type="application/pdf")
    response = api.client.post(url, {"kind": "emargement", "file": fake}, headers=api.headers)
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert dossier.proofs.count() == 1
