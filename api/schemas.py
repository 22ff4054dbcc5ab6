"""What the API says of each object: one schema per resource, also the body of the webhooks
(``represent``). Money in integer cents, dates ISO 8601, states as codes with their label."""

import datetime
import uuid

from ninja import Schema
from pydantic import Field


class Problem(Schema):
    """An error, as ``application/problem+json`` (RFC 9457), with the French message."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: dict[str, list[str]] = Field(default_factory=dict, description="Messages par champ, s'il y en a.")


class Coded(Schema):
    code: str
    label: str


class SessionOut(Schema):
    id: uuid.UUID
    reference: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    permanent_entry: bool
    registration_opens: datetime.date | None
    registration_closes: datetime.date | None
    places: int
    active: bool

    @staticmethod
    def resolve_id(obj):
        return obj.public_id


class ActionOut(Schema):
    id: uuid.UUID
    reference: str
    modalite: Coded
    rythmes: list[Coded]
    modalites_pedagogiques: str
    prerequis: str
    duree_heures: int
    heures_hebdo: int | None
    price_cents: int = Field(description="Prix TTC en centimes.")
    price_ht_cents: int
    tva: int = Field(description="Taux de TVA en points de base (0, 550, 2000).")
    address: str
    commune_insee: str | None
    contact_name: str
    contact_email: str
    contact_phone: str

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_modalite(obj):
        return {"code": obj.modalite, "label": obj.get_modalite_display()}

    @staticmethod
    def resolve_rythmes(obj):
        return [{"code": code, "label": label} for code, label in zip(obj.rythmes, obj.rythme_labels, strict=False)]

    @staticmethod
    def resolve_commune_insee(obj):
        return obj.commune.code_insee if obj.commune_id else None


class FormationOut(Schema):
    id: uuid.UUID
    numero: str
    intitule: str
    certification: Coded | None
    objectifs: str
    contenu: str
    resultats_attendus: str
    active: bool
    updated_at: datetime.datetime

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_certification(obj):
        if obj.certification_id is None:
            return None
        return {"code": f"{obj.certification.type}{obj.certification.code}", "label": obj.certification.libelle}


class FormationDetail(FormationOut):
    actions: list[ActionOut]

    @staticmethod
    def resolve_actions(obj):
        return list(obj.actions.all())


class ActionDetail(ActionOut):
    formation: str
    sessions: list[SessionOut]

    @staticmethod
    def resolve_formation(obj):
        return obj.formation.numero

    @staticmethod
    def resolve_sessions(obj):
        return list(obj.sessions.all())


class Financing(Schema):
    price_cents: int
    droits_cents: int
    abondements_cents: int
    participation_cents: int
    reste_a_payer_cents: int


class HistoryItem(Schema):
    transition: str
    label: str
    from_status: str
    to_status: str
    at: datetime.datetime
    by: str
    comment: str


class DossierOut(Schema):
    numero: str
    status: Coded
    billing_state: Coded
    version: int = Field(description="À renvoyer (champ « version » ou en-tête If-Match) avec chaque transition.")
    formation: str
    formation_intitule: str
    session: uuid.UUID
    action: uuid.UUID
    start_date: datetime.date | None
    end_date: datetime.date | None
    duree_heures: int
    financing: Financing
    billable_cents: int
    titulaire: dict = Field(description="Ce que le titulaire a validé en envoyant sa demande (nom, coordonnées, situation).")
    sent_at: datetime.datetime | None
    deadline_at: datetime.datetime | None
    with_prerequisites: bool
    refusal_reason: str
    cancellation_reason: str
    exit_reason: str
    completion_rate: int | None

    @staticmethod
    def resolve_status(obj):
        return {"code": obj.status, "label": obj.get_status_display()}

    @staticmethod
    def resolve_billing_state(obj):
        return {"code": obj.billing_state, "label": obj.get_billing_state_display()}

    @staticmethod
    def resolve_formation(obj):
        return obj.formation.numero

    @staticmethod
    def resolve_formation_intitule(obj):
        return obj.formation.intitule

    @staticmethod
    def resolve_session(obj):
        return obj.session.public_id

    @staticmethod
    def resolve_action(obj):
        return obj.session.action.public_id

    @staticmethod
    def resolve_start_date(obj):
        return obj.effective_start_date

    @staticmethod
    def resolve_end_date(obj):
        return obj.effective_end_date

    @staticmethod
    def resolve_duree_heures(obj):
        return obj.effective_duree_heures

    @staticmethod
    def resolve_financing(obj):
        return {
            "price_cents": obj.effective_price_cents,
            "droits_cents": obj.droits_cents,
            "abondements_cents": obj.abondements_cents,
            "participation_cents": obj.participation_cents,
            "reste_a_payer_cents": obj.reste_a_payer_cents,
        }

    @staticmethod
    def resolve_titulaire(obj):
        return obj.titulaire_info or {}


class DossierDetail(DossierOut):
    history: list[HistoryItem]

    @staticmethod
    def resolve_history(obj):
        from dossiers.workflow import TRANSITIONS

        return [
            {
                "transition": event.transition,
                "label": TRANSITIONS[event.transition].label if event.transition in TRANSITIONS else event.transition,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "at": event.created_at,
                "by": event.actor_role,
                "comment": event.comment,
            }
            for event in obj.events.order_by("created_at", "id")
        ]


class InvoiceOut(Schema):
    number: str
    status: Coded
    kind: str
    total_ht_cents: int
    total_tva_cents: int
    total_ttc_cents: int
    issued_at: datetime.datetime | None
    paid_at: datetime.datetime | None
    payment_reference: str

    @staticmethod
    def resolve_status(obj):
        return {"code": obj.status, "label": obj.get_status_display()}


class TransitionIn(Schema):
    """The fields of the page's form for this transition, and the dossier's version."""

    version: int | None = Field(None, description="La version lue ; à défaut, l'en-tête If-Match.")
    price: str | None = Field(None, description="propose : prix TTC en euros (« 870,00 »).")
    start_date: datetime.date | None = Field(None, description="propose : date de début.")
    end_date: datetime.date | None = Field(None, description="propose : date de fin.")
    duree_heures: int | None = Field(None, description="propose : durée en heures.")
    motive: str | None = Field(None, description="refuse : motif (liste dans /references).")
    details: str | None = Field(None, description="refuse : précisions pour le titulaire.")
    reason: str | None = Field(None, description="cancel_by_organisme : motif de l'annulation.")
    exit_reason: str | None = Field(None, description="declare_service_done : motif de sortie (liste dans /references).")
    completion_rate: int | None = Field(None, description="declare_service_done : taux de réalisation (0 à 100).")
    exit_date: datetime.date | None = Field(None, description="declare_service_done : date de sortie.")
    force_majeure: bool | None = Field(None, description="declare_service_done : abandon pour force majeure.")


class References(Schema):
    statuses: list[Coded]
    billing_states: list[Coded]
    transitions: list[Coded]
    refusal_reasons: list[str]
    exit_reasons: list[Coded]
    webhook_events: list[Coded]


class KeyInfo(Schema):
    organisme: str
    siret: str
    name: str
    scopes: list[str]
    expires_at: datetime.datetime | None
