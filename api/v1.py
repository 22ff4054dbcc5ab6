"""``/api/v1/``: the organismes' API (django-ninja: the OpenAPI 3 document is generated from
these typed operations). Every query is scoped to the key's organisme (another organisme's
object → 404); every operation checks the key's scopes (→ 403); writes go through the same
forms and services as the pages, so guards, version checks and messages are the pages'."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, NinjaAPI, Query, Router, Schema, UploadedFile
from ninja import Status as Answer
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.pagination import CursorPagination, paginate
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle
from pydantic import Field

from billing.models import Invoice
from catalogue.models import Action, Formation, Session
from cpf_portal.errors import ConflictError, UserFacingError
from dossiers import billing as dossier_billing
from dossiers import services as dossier_services
from dossiers.forms import REFUSAL_REASONS
from dossiers.models import Dossier, DossierEvent
from dossiers.states import Actor, BillingState, Status, TransitionNotAllowed
from dossiers.views.organisme import ACTIONS
from dossiers.workflow import TRANSITIONS, ExitReason
from equipes.permissions import Right

from . import keys
from .models import Event
from .schemas import (
    ActionDetail,
    Coded,
    DossierDetail,
    DossierOut,
    FormationDetail,
    FormationOut,
    InvoiceOut,
    KeyInfo,
    Problem,
    References,
    SessionOut,
    TransitionIn,
)

PROBLEM = "application/problem+json"


class KeyAuth(HttpBearer):
    """``Authorization: Bearer cpf_…``: the organisme's active key, else 401."""

    def authenticate(self, request: HttpRequest, token: str):
        # A write's key was found already by ApiWriteMiddleware (the same header).
        return getattr(request, "api_key", None) or keys.authenticate(token)


class KeyRateThrottle(AuthRateThrottle):
    """Requests per key, at the rate of ``CPF_API_RATE`` (read at each request)."""

    def __init__(self):
        super().__init__(settings.CPF_API_RATE)

    def allow_request(self, request):
        if self.rate != settings.CPF_API_RATE:
            self.rate = settings.CPF_API_RATE
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


class CpfApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's document, with the errors' content type as they are sent (problem+json)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for status, response in operation.get("responses", {}).items():
                    if int(status) >= 400 and "application/json" in response.get("content", {}):
                        response["content"] = {PROBLEM: response["content"]["application/json"]}
        return schema


api = CpfApi(
    title="Mon Compte Formation — API des organismes",
    version="1",
    description="Catalogue, dossiers et facturation d'un organisme de formation. Authentification : `Authorization: Bearer <clé>`.",
    urls_namespace="api-v1",
    docs_url=None,  # the documentation page is the site's own (api.views.docs)
    auth=KeyAuth(),
    throttle=[KeyRateThrottle()],
)


# --- Errors as problem+json -------------------------------------------------------------------


def problem(status: int, title: str, detail: str = "", errors: dict | None = None) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": errors or {}}
    return JsonResponse(body, status=status, content_type=PROBLEM, json_dumps_params={"ensure_ascii": False})


TITLES = {
    400: "Requête invalide",
    401: "Clé d'API absente ou invalide",
    403: "Périmètre insuffisant",
    404: "Introuvable",
    409: "Conflit",
    422: "Requête invalide",
    429: "Trop de requêtes",
}


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem(401, TITLES[401], "Envoyez une clé active de votre organisme : « Authorization: Bearer <clé> ».")


@api.exception_handler(HttpError)
def _http_error(request, exc):
    status = exc.status_code
    detail = "Réessayez plus tard." if status == 429 else str(exc.message)
    return problem(status, TITLES.get(status, "Erreur"), detail)


# Pydantic's errors (by their type) in French.
MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Saisissez un nombre entier.",
    "int_type": "Saisissez un nombre entier.",
    "int_from_float": "Saisissez un nombre entier.",
    "bool_parsing": "Indiquez true ou false.",
    "bool_type": "Indiquez true ou false.",
    "date_parsing": "Saisissez une date au format AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Saisissez une date au format AAAA-MM-JJ.",
    "date_from_datetime_inexact": "Saisissez une date au format AAAA-MM-JJ.",
    "date_type": "Saisissez une date au format AAAA-MM-JJ.",
    "datetime_parsing": "Saisissez une date et une heure au format ISO 8601.",
    "datetime_from_date_parsing": "Saisissez une date et une heure au format ISO 8601.",
    "datetime_type": "Saisissez une date et une heure au format ISO 8601.",
    "enum": "Choisissez une valeur de la liste (voir /references).",
    "string_type": "Saisissez un texte.",
    "model_attributes_type": "Envoyez un objet JSON.",
    "model_type": "Envoyez un objet JSON.",
    "dict_type": "Envoyez un objet JSON.",
    "json_invalid": "Le corps de la requête n'est pas un JSON valide.",
    "greater_than_equal": "La valeur est trop petite.",
    "less_than": "La valeur est trop grande.",
    "less_than_equal": "La valeur est trop grande.",
}


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        field = ".".join(str(part) for part in error.get("loc", [])[1:]) or "requête"
        errors.setdefault(field, []).append(MESSAGES.get(error.get("type", ""), "Valeur invalide."))
    return problem(422, TITLES[422], "Certains champs ne sont pas valides.", errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(404, TITLES[404], "Cet objet n'existe pas ou n'appartient pas à votre organisme.")


@api.exception_handler(TransitionNotAllowed)
def _not_allowed(request, exc):
    return problem(409, TITLES[409], str(exc))


@api.exception_handler(ConflictError)
def _conflict(request, exc):
    return problem(409, TITLES[409], str(exc))


@api.exception_handler(UserFacingError)
def _refused(request, exc):
    return problem(400, TITLES[400], str(exc))


@api.exception_handler(DjangoValidationError)
def _django_invalid(request, exc):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"requête": exc.messages}
    return problem(400, TITLES[400], "Certains champs ne sont pas valides.", errors)


def need(request, right: Right) -> None:
    if right not in request.auth.rights:
        raise AuthorizationError(message=f"Cette clé n'a pas le périmètre nécessaire ({right.value}).")


def organisme(request):
    return request.auth.organisme


ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}
WRITE_ERRORS = {**ERRORS, 400: Problem, 409: Problem}


# --- Key --------------------------------------------------------------------------------------


@api.get("/moi", response={200: KeyInfo, **ERRORS}, summary="La clé utilisée et son organisme", tags=["Clé"])
def me(request):
    key = request.auth
    return {
        "organisme": key.organisme.raison_sociale,
        "siret": key.organisme.siret,
        "name": key.name,
        "scopes": key.scopes,
        "expires_at": key.expires_at,
    }


@api.get(
    "/references", response={200: References, **ERRORS}, summary="Codes et libellés (états, transitions, motifs, événements)", tags=["Références"]
)
def references(request):
    return {
        "statuses": [{"code": c, "label": label} for c, label in Status.choices],
        "billing_states": [{"code": c, "label": label} for c, label in BillingState.choices],
        "transitions": [{"code": name, "label": TRANSITIONS[name].label} for name in ACTIONS],
        "refusal_reasons": [value for value, _ in REFUSAL_REASONS if value],
        "exit_reasons": [{"code": c, "label": label} for c, label in ExitReason.choices],
        "webhook_events": [{"code": c, "label": label} for c, label in Event.choices],
    }


# --- Catalogue --------------------------------------------------------------------------------

catalogue = Router(tags=["Catalogue"])


class FormationFilters(Schema):
    active: bool | None = None
    q: str | None = None


@catalogue.get("/formations", response={200: list[FormationOut], **ERRORS}, summary="Formations de l'organisme")
@paginate(CursorPagination, ordering=("id",), page_size=50, max_page_size=200)
def formations(request, filters: Query[FormationFilters]):
    need(request, Right.CATALOGUE_VOIR)
    rows = Formation.objects.for_organisme(organisme(request)).select_related("certification")
    if filters.active is not None:
        rows = rows.filter(active=filters.active)
    if filters.q:
        rows = rows.filter(intitule__icontains=filters.q)
    return rows


@catalogue.get("/formations/{formation_id}", response={200: FormationDetail, **ERRORS}, summary="Une formation et ses actions")
def formation(request, formation_id: str):
    need(request, Right.CATALOGUE_VOIR)
    rows = Formation.objects.for_organisme(organisme(request)).select_related("certification").prefetch_related("actions__commune")
    return get_object_or_404(rows, public_id=_uuid(formation_id))


@catalogue.get("/actions/{action_id}", response={200: ActionDetail, **ERRORS}, summary="Une action et ses sessions")
def action(request, action_id: str):
    need(request, Right.CATALOGUE_VOIR)
    rows = Action.objects.filter(formation__organisme=organisme(request)).select_related("formation", "commune").prefetch_related("sessions")
    return get_object_or_404(rows, public_id=_uuid(action_id))


@catalogue.get("/sessions/{session_id}", response={200: SessionOut, **ERRORS}, summary="Une session")
def session(request, session_id: str):
    need(request, Right.CATALOGUE_VOIR)
    return get_object_or_404(Session.objects.filter(formation__organisme=organisme(request)), public_id=_uuid(session_id))


class ActiveIn(Schema):
    active: bool


@catalogue.post("/sessions/{session_id}/ouverture", response={200: SessionOut, **WRITE_ERRORS}, summary="Ouvrir ou fermer une session")
def session_open(request, session_id: str, body: ActiveIn):
    from catalogue import services as catalogue_services

    need(request, Right.CATALOGUE_GERER)
    found = get_object_or_404(Session.objects.filter(formation__organisme=organisme(request)), public_id=_uuid(session_id))
    return catalogue_services.session_set_active(session=found, active=body.active)


@catalogue.post("/formations/{formation_id}/publication", response={200: FormationOut, **WRITE_ERRORS}, summary="Publier ou désactiver une formation")
def formation_publish(request, formation_id: str, body: ActiveIn):
    from catalogue import services as catalogue_services

    need(request, Right.CATALOGUE_GERER)
    found = get_object_or_404(Formation.objects.for_organisme(organisme(request)).select_related("certification"), public_id=_uuid(formation_id))
    return catalogue_services.formation_set_active(formation=found, active=body.active)


# Writes: the pages' forms validate the body (same fields, same messages), the services write;
# for the offer, PUT replaces the whole description.


def _form_data(body: Schema) -> dict:
    """The body as the page's form posts it (text, « on » for a ticked box, lists as lists)."""
    data = {}
    for name, value in body.model_dump(exclude_none=True).items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = [str(item) for item in value]
        elif isinstance(value, datetime.date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


def _valid(form):
    if not form.is_valid():
        raise DjangoValidationError({field: list(messages) for field, messages in form.errors.items()})
    return form


class FormationIn(Schema):
    code: str = Field(description="Votre code de la formation : son numéro public sera SIRET_code.")
    intitule: str
    certification_type: str | None = Field(None, description="RNCP, RS, PERMIS, BILAN, VAE, CREATION ; vide sans certification.")
    certification_code: str | None = None
    description: str | None = None
    objectifs: str | None = None
    contenu: str | None = None
    resultats_attendus: str | None = None
    domaine: str | None = None


class ActionIn(Schema):
    modalite: str = Field(description="presentiel, distance ou mixte.")
    lieu: str | None = Field(None, description="Commune (nom ou code postal) ; sans objet à distance.")
    address: str | None = None
    rythmes: list[str] = Field(default_factory=list, description="journee, soiree, weekend, temps_partiel.")
    modalites_pedagogiques: str | None = None
    prerequis: str | None = None
    duree_heures: int
    heures_hebdo: int | None = None
    prix: str = Field(description="Prix TTC en euros (« 1200,50 »).")
    tva: int | None = Field(None, description="0, 550 ou 2000 (points de base).")
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None


class SessionIn(Schema):
    permanent_entry: bool = False
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    registration_opens: datetime.date | None = None
    registration_closes: datetime.date | None = None
    places: int = 12
    reference: str | None = None


def _formation_of(request, formation_id):
    return get_object_or_404(Formation.objects.for_organisme(organisme(request)).select_related("certification"), public_id=_uuid(formation_id))


def _action_of(request, action_id):
    rows = Action.objects.filter(formation__organisme=organisme(request)).select_related("formation", "commune")
    return get_object_or_404(rows, public_id=_uuid(action_id))


def _save_formation(request, body: FormationIn, instance=None):
    from catalogue import services as catalogue_services
    from catalogue.forms import FormationForm

    form = _valid(FormationForm(_form_data(body), instance=instance, organisme=organisme(request)))
    formation = catalogue_services.formation_save(formation=form.apply(), organisme=organisme(request))
    return Formation.objects.select_related("certification").prefetch_related("actions__commune").get(pk=formation.pk)


@catalogue.post("/formations", response={201: FormationDetail, **WRITE_ERRORS}, summary="Créer une formation")
def formation_create(request, body: FormationIn):
    need(request, Right.CATALOGUE_GERER)
    return Answer(201, _save_formation(request, body))


@catalogue.put("/formations/{formation_id}", response={200: FormationDetail, **WRITE_ERRORS}, summary="Modifier une formation")
def formation_update(request, formation_id: str, body: FormationIn):
    need(request, Right.CATALOGUE_GERER)
    return _save_formation(request, body, _formation_of(request, formation_id))


def _save_action(request, body: ActionIn, formation, instance=None):
    from catalogue import services as catalogue_services
    from catalogue.forms import ActionForm

    form = _valid(ActionForm(_form_data(body), instance=instance, formation=formation))
    action = catalogue_services.action_save(action=form.apply(), formation=formation)
    return Action.objects.select_related("formation", "commune").prefetch_related("sessions").get(pk=action.pk)


@catalogue.post("/formations/{formation_id}/actions", response={201: ActionDetail, **WRITE_ERRORS}, summary="Ajouter une action à une formation")
def action_create(request, formation_id: str, body: ActionIn):
    need(request, Right.CATALOGUE_GERER)
    return Answer(201, _save_action(request, body, _formation_of(request, formation_id)))


@catalogue.put(
    "/actions/{action_id}", response={200: ActionDetail, **WRITE_ERRORS}, summary="Modifier une action (ses sessions en suivent le prix et le lieu)"
)
def action_update(request, action_id: str, body: ActionIn):
    need(request, Right.CATALOGUE_GERER)
    found = _action_of(request, action_id)
    return _save_action(request, body, found.formation, found)


def _save_session(request, body: SessionIn, action, instance=None):
    from catalogue import services as catalogue_services
    from catalogue.forms import SessionForm

    form = _valid(SessionForm(_form_data(body), instance=instance, action=action))
    return catalogue_services.session_save(session=form.apply(), action=action)


@catalogue.post("/actions/{action_id}/sessions", response={201: SessionOut, **WRITE_ERRORS}, summary="Ajouter une session à une action")
def session_create(request, action_id: str, body: SessionIn):
    need(request, Right.CATALOGUE_GERER)
    return Answer(201, _save_session(request, body, _action_of(request, action_id)))


@catalogue.put("/sessions/{session_id}", response={200: SessionOut, **WRITE_ERRORS}, summary="Modifier une session")
def session_update(request, session_id: str, body: SessionIn):
    need(request, Right.CATALOGUE_GERER)
    found = get_object_or_404(Session.objects.filter(formation__organisme=organisme(request)).select_related("action"), public_id=_uuid(session_id))
    return _save_session(request, body, found.action, found)


def _uuid(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        raise Http404 from None


# --- Dossiers ---------------------------------------------------------------------------------

dossiers = Router(tags=["Dossiers"])
DOSSIER_RELATED = ("formation", "session__action")


class DossierFilters(Schema):
    status: Status | None = None
    billing_state: BillingState | None = None
    session: str | None = None
    start_after: datetime.date | None = None
    start_before: datetime.date | None = None
    updated_since: datetime.datetime | None = None


@dossiers.get("/dossiers", response={200: list[DossierOut], **ERRORS}, summary="Dossiers reçus par l'organisme")
@paginate(CursorPagination, ordering=("id",), page_size=50, max_page_size=200)
def dossier_list(request, filters: Query[DossierFilters]):
    need(request, Right.DOSSIERS_VOIR)
    rows = Dossier.objects.for_organisme(organisme(request)).select_related(*DOSSIER_RELATED)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.billing_state:
        rows = rows.filter(billing_state=filters.billing_state)
    if filters.session:
        rows = rows.filter(session__public_id=_uuid(filters.session))
    if filters.start_after:
        rows = rows.filter(start_date__gte=filters.start_after)
    if filters.start_before:
        rows = rows.filter(start_date__lte=filters.start_before)
    if filters.updated_since:
        rows = rows.filter(Exists(DossierEvent.objects.filter(dossier=OuterRef("pk"), created_at__gte=_utc(filters.updated_since, "updated_since"))))
    return rows


def _utc(moment: datetime.datetime, field: str) -> datetime.datetime:
    """In UTC (any offset Python reads, the database too), or a 422 for an impossible moment."""
    try:
        return moment.astimezone(datetime.UTC) if moment.tzinfo else timezone.make_aware(moment).astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        raise ValidationError([{"loc": ("query", field), "type": "datetime_parsing"}]) from None


def _dossier(request, numero: str) -> Dossier:
    return get_object_or_404(Dossier.objects.for_organisme(organisme(request)).select_related(*DOSSIER_RELATED), numero=numero)


@dossiers.get("/dossiers/{numero}", response={200: DossierDetail, **ERRORS}, summary="Un dossier, son financement et son historique")
def dossier_detail(request, numero: str):
    need(request, Right.DOSSIERS_VOIR)
    return _dossier(request, numero)


class ProofOut(Schema):
    id: uuid.UUID
    kind: Coded
    content_type: str
    size: int
    uploaded_at: datetime.datetime

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_kind(obj):
        return {"code": obj.kind, "label": obj.get_kind_display()}

    @staticmethod
    def resolve_uploaded_at(obj):
        return obj.created_at


@dossiers.post("/dossiers/{numero}/justificatifs", response={201: ProofOut, **WRITE_ERRORS}, summary="Déposer un justificatif de réalisation")
def proof_upload(request, numero: str, kind: Form[str], file: File[UploadedFile]):
    """PDF, JPEG or PNG of 5 Mo at most (the type read from the content), once the entry is declared."""
    from dossiers.forms import ProofForm

    need(request, Right.DOSSIERS_TRAITER)
    dossier = _dossier(request, numero)
    form = _valid(ProofForm({"kind": kind}, {"file": file}))
    proof = dossier_services.proof_add(
        dossier=dossier, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], content_type=form.content_type, by=request.auth.created_by
    )
    return Answer(201, proof)


# Before the transitions' route, which would take « justificatifs » for a transition.
@dossiers.post(
    "/dossiers/{numero}/{transition}",
    response={200: DossierDetail, **WRITE_ERRORS},
    summary="Faire une transition (acknowledge, propose, refuse, enter, no_show, cancel_by_organisme, declare_service_done)",
)
def dossier_transition(request, numero: str, transition: str, body: TransitionIn):
    """The same form and service as the dossier's page: the same checks and messages. The
    version read comes in ``version`` or the ``If-Match`` header; a stale one → 409."""
    need(request, Right.DOSSIERS_TRAITER)
    dossier = _dossier(request, numero)
    if transition not in ACTIONS or Actor.ORGANISME not in TRANSITIONS[transition].actors:
        raise Http404
    data = _form_data(body)
    if "version" not in data and request.headers.get("If-Match"):
        data["version"] = request.headers["If-Match"].strip('W/"')
    form = ACTIONS[transition].form(dossier, data)
    if not form.is_valid() and set(form.errors) == {"version"}:
        raise TransitionNotAllowed("Indiquez la version du dossier (champ « version » ou en-tête If-Match).")
    _valid(form)
    dossier_services.dossier_transition(
        dossier_id=dossier.pk,
        name=transition,
        actor=Actor.ORGANISME,
        by=request.auth.created_by,
        payload=ACTIONS[transition].payload(form),
        expected_version=form.cleaned_data["version"],
    )
    return _dossier(request, numero)


# --- Billing ----------------------------------------------------------------------------------

facturation = Router(tags=["Facturation"])


@facturation.get("/a-facturer", response={200: list[DossierOut], **ERRORS}, summary="Dossiers à facturer")
@paginate(CursorPagination, ordering=("id",), page_size=50, max_page_size=200)
def to_bill(request):
    need(request, Right.FACTURATION_VOIR)
    return dossier_billing.to_bill(Dossier.objects.filter(organisme=organisme(request))).select_related(*DOSSIER_RELATED)


@facturation.get("/factures", response={200: list[InvoiceOut], **ERRORS}, summary="Factures et avoirs")
@paginate(CursorPagination, ordering=("id",), page_size=50, max_page_size=200)
def invoices(request):
    need(request, Right.FACTURATION_VOIR)
    return Invoice.objects.filter(organisme=organisme(request))


@facturation.get("/factures/{number}", response={200: InvoiceOut, **ERRORS}, summary="Une facture")
def invoice(request, number: str):
    need(request, Right.FACTURATION_VOIR)
    return get_object_or_404(Invoice.objects.filter(organisme=organisme(request)), number=number)


@facturation.get(
    "/factures/{number}/pdf",
    response={200: None, **ERRORS},
    summary="Le PDF d'une facture",
    openapi_extra={"responses": {200: {"description": "PDF", "content": {"application/pdf": {}}}}},
)
def invoice_pdf(request, number: str):
    from billing.views import serve_pdf

    need(request, Right.FACTURATION_VOIR)
    return serve_pdf(get_object_or_404(Invoice.objects.filter(organisme=organisme(request)), number=number))


class InvoiceIn(Schema):
    dossiers: list[str] = Field(description="Les numéros des dossiers à facturer (voir /a-facturer).")


@facturation.post("/factures", response={201: InvoiceOut, **WRITE_ERRORS}, summary="Facturer des dossiers (une facture)")
def invoice_create(request, body: InvoiceIn):
    from billing import services as billing_services

    need(request, Right.FACTURATION_GERER)
    ids = list(Dossier.objects.filter(organisme=organisme(request), numero__in=body.dossiers).values_list("pk", flat=True))
    if not ids or len(ids) != len(set(body.dossiers)):
        raise Http404
    return Answer(201, billing_services.invoice_issue(organisme=organisme(request), dossier_ids=ids, by=request.auth.created_by))


api.add_router("/", catalogue)
api.add_router("/", dossiers)
api.add_router("/", facturation)
