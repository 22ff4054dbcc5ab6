"""« Mes interlocuteurs »: the directory of structures that advise titulaires, searched by
commune (nearest first, great-circle distance computed in SQL) or by département."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import FloatField, QuerySet, Value
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Structure, User
from catalogue.models import Commune
from cpf_portal.errors import ConflictError, UserFacingError
from cpf_portal.geo import bounding_box, distance_km
from cpf_portal.money import euros
from dossiers import money
from dossiers import services as dossier_services
from dossiers.models import Dossier, DossierAbondement
from notifications.services import email_queue, notify, render_message

from .models import FUNDING_STRUCTURES, OPEN_DOSSIER_STATES, CofinancingRequest

NEAR_KM = 50


def distance_from(commune: Commune):
    """Great-circle distance (km) from ``commune`` to each structure's commune."""
    return distance_km(commune.latitude, commune.longitude, lat_field="commune__latitude", lon_field="commune__longitude")


def search_structures(*, commune: Commune | None = None, departement: str = "", types: list[str] | None = None) -> QuerySet:
    structures = Structure.objects.select_related("commune")
    if types:
        structures = structures.filter(type__in=types)
    if commune is not None:
        lon_min, lat_min, lon_max, lat_max = bounding_box(commune.latitude, commune.longitude, NEAR_KM)
        return (
            structures.filter(commune__latitude__range=(lat_min, lat_max), commune__longitude__range=(lon_min, lon_max))
            .annotate(distance_km=distance_from(commune))
            .filter(distance_km__lte=NEAR_KM)
            .order_by("distance_km", "type", "name")
        )
    if departement:
        return (
            structures.filter(departement=departement).annotate(distance_km=Value(None, output_field=FloatField())).order_by("type", "city", "name")
        )
    return structures.none()


STREETS = ["rue de la République", "avenue Foch", "rue Pasteur", "boulevard de la Liberté", "place de la Gare"]


def seed_structures() -> int:
    """A directory for every département (demo data): in its biggest commune a France Travail
    agency, a mission locale, a Cap Emploi, a CEP operator and an APEC centre; France Travail
    agencies in the next two. Idempotent."""
    created = 0
    by_departement: dict[str, list[Commune]] = {}
    for commune in Commune.objects.order_by("departement", "-population").only("id", "name", "departement", "postal_codes", "population"):
        biggest = by_departement.setdefault(commune.departement, [])
        if len(biggest) < 3:
            biggest.append(commune)
    rows = []
    for departement, communes in by_departement.items():
        for rank, commune in enumerate(communes):
            kinds = list(Structure.Type) if rank == 0 else [Structure.Type.FRANCE_TRAVAIL]
            for index, kind in enumerate(kinds):
                rows.append(_structure(kind, commune, departement, index))
    existing = set(Structure.objects.values_list("type", "name", "postal_code"))
    new = [row for row in rows if (row.type, row.name, row.postal_code) not in existing]
    Structure.objects.bulk_create(new, ignore_conflicts=True)
    created += len(new)
    return created


AUDIENCES = {
    Structure.Type.CEP: "Salariés, indépendants : faire le point sur son projet professionnel",
    Structure.Type.FRANCE_TRAVAIL: "Demandeurs d'emploi",
    Structure.Type.MISSION_LOCALE: "Jeunes de 16 à 25 ans",
    Structure.Type.CAP_EMPLOI: "Personnes en situation de handicap",
    Structure.Type.APEC: "Cadres et jeunes diplômés",
}
NAMES = {
    Structure.Type.CEP: "Conseil en évolution professionnelle — {city}",
    Structure.Type.FRANCE_TRAVAIL: "France Travail {city}",
    Structure.Type.MISSION_LOCALE: "Mission locale de {city}",
    Structure.Type.CAP_EMPLOI: "Cap Emploi {city}",
    Structure.Type.APEC: "APEC {city}",
}


def _structure(kind, commune: Commune, departement: str, index: int) -> Structure:
    postal_code = commune.postal_codes[0] if commune.postal_codes else f"{departement:0<5}"[:5]
    slug = "".join(ch for ch in commune.name.lower() if ch.isalnum())[:20] or "ville"
    return Structure(
        type=kind,
        name=NAMES[kind].format(city=commune.name),
        audience=AUDIENCES[kind],
        address=f"{10 + index * 7} {STREETS[index % len(STREETS)]}",
        postal_code=postal_code,
        city=commune.name,
        commune=commune,
        departement=departement,
        phone=f"0{(int(commune.id) % 5) + 1}{(int(commune.id) * 7919 + index) % 100000000:08d}",
        email=f"{kind.replace('_', '-')}.{slug}@structures.example",
        opening_hours="Du lundi au vendredi, 9 h – 12 h 30 et 13 h 30 – 17 h",
    )


# --- « Demander un financement complémentaire » ------------------------------------------------


class CofinancingError(UserFacingError):
    """A request or an answer refused by a rule; the message is shown (400)."""


NOTIFICATIONS = "interlocuteurs/notifications/cofinancing"


def financeur_of(structure: Structure) -> str:
    """The abondement's kind for a structure: France Travail's is its own (it exempts no one by
    itself, but it is a third-party financing); the others are « Autre financeur »."""
    if structure.type == Structure.Type.FRANCE_TRAVAIL:
        return DossierAbondement.Financeur.FRANCE_TRAVAIL
    return DossierAbondement.Financeur.AUTRE


def request_refusal(dossier: Dossier, user: User, *, reste_a_payer_cents: int) -> str:
    """Why ``user`` may not ask for a complementary financing on ``dossier`` now (« » when he may)."""
    if dossier.status not in OPEN_DOSSIER_STATES:
        return "Un financement complémentaire se demande quand le dossier est envoyé ou proposé par l'organisme, avant son acceptation."
    if reste_a_payer_cents <= 0:
        return "Il ne reste rien à payer sur ce dossier : vos droits et les abondements couvrent déjà le prix de la formation."
    if user.interlocuteur_id is None:
        return "Choisissez d'abord votre interlocuteur dans « Mes interlocuteurs » : c'est à lui que la demande est envoyée."
    if user.interlocuteur.type not in FUNDING_STRUCTURES:
        return (
            "Votre interlocuteur, un conseil en évolution professionnelle, ne finance pas de formation : choisissez France Travail, "
            "une mission locale, Cap Emploi ou l'APEC dans « Mes interlocuteurs »."
        )
    return ""


def _tell(*, recipients: list[tuple[User | None, str]], template: str, context: dict, url: str, dedup: str) -> None:
    """For each (user, address): an in-app notification to the user, an e-mail to the address
    (after commit); each once (dedup keys)."""
    subject, body = render_message(template, context)
    body = body.strip()
    for user, address in recipients:
        key = f"{dedup}:{user.pk if user else address}"
        if user is not None:
            notify(user=user, title=subject, body=body, url=url, dedup_key=key)
        if address:
            email_queue(
                to=address,
                user=user if user is not None and user.role == Role.TITULAIRE else None,
                template="dossiers/emails/notification",
                context={"subject": subject, "message": body, "url": url},
                dedup_key=f"{key}:email",
            )


def _context(cofinancing: CofinancingRequest) -> dict:
    dossier = cofinancing.dossier
    return {
        "numero": dossier.numero,
        "intitule": dossier.formation.intitule,
        "titulaire": dossier.titulaire.full_name,
        "structure": cofinancing.structure.name,
        "amount": euros(cofinancing.amount_cents) if cofinancing.amount_cents else "",
        "reste": euros(cofinancing.reste_a_payer_cents),
        "message": cofinancing.message,
        "reason": cofinancing.reason,
        "granted": euros(cofinancing.abondement.amount_cents) if cofinancing.abondement_id else "",
        "droits": euros(dossier.droits_cents),
        "reste_now": euros(dossier.reste_a_payer_cents),
        "exemption": dossier.exemption,
    }


@transaction.atomic
def cofinancing_request_create(*, dossier: Dossier, by: User, amount_cents: int | None = None, message: str = "") -> CofinancingRequest:
    """The titulaire asks his interlocuteur for a complementary financing of his dossier (one
    open request a dossier); the structure's conseillers are told."""
    dossier = Dossier.objects.select_for_update(of=("self",)).select_related("formation", "titulaire__interlocuteur").get(pk=dossier.pk)
    if dossier.titulaire_id != by.pk:
        raise CofinancingError("Ce dossier n'est pas le vôtre.")
    split = money.split_for(dossier, today=timezone.localdate())
    refusal = request_refusal(dossier, dossier.titulaire, reste_a_payer_cents=split.reste_a_payer_cents)
    if refusal:
        raise CofinancingError(refusal)
    if amount_cents is not None and amount_cents <= 0:
        raise CofinancingError("Le montant demandé doit être positif.")
    if CofinancingRequest.objects.filter(dossier=dossier, status=CofinancingRequest.Status.PENDING).exists():
        raise ConflictError("Une demande de financement complémentaire attend déjà une réponse pour ce dossier.")
    try:
        with transaction.atomic():
            cofinancing = CofinancingRequest.objects.create(
                dossier=dossier,
                structure=dossier.titulaire.interlocuteur,
                amount_cents=amount_cents,
                message=message.strip(),
                reste_a_payer_cents=split.reste_a_payer_cents,
            )
    except IntegrityError:  # a request made at the same instant
        raise ConflictError("Une demande de financement complémentaire attend déjà une réponse pour ce dossier.") from None
    conseillers = User.objects.filter(role=Role.CONSEILLER, structure=cofinancing.structure, is_active=True).order_by("pk")
    # Without a conseiller account here, the structure's own address receives the request.
    recipients = [(conseiller, conseiller.email) for conseiller in conseillers] or [(None, cofinancing.structure.email)]
    _tell(
        recipients=recipients,
        template=f"{NOTIFICATIONS}/requested",
        context=_context(cofinancing),
        url=reverse("interlocuteurs:conseiller-request", args=[cofinancing.public_id]),
        dedup=f"cofinancing:{cofinancing.pk}:requested",
    )
    return cofinancing


def _locked_request(cofinancing: CofinancingRequest) -> CofinancingRequest:
    return CofinancingRequest.objects.select_for_update(of=("self",)).select_related("structure").get(pk=cofinancing.pk)


@transaction.atomic
def cofinancing_request_cancel(*, cofinancing: CofinancingRequest, by: User) -> CofinancingRequest:
    """The titulaire withdraws his request while it waits."""
    cofinancing = _locked_request(cofinancing)
    if cofinancing.dossier.titulaire_id != by.pk:
        raise CofinancingError("Cette demande n'est pas la vôtre.")
    if not cofinancing.is_pending:
        raise ConflictError("Cette demande a déjà reçu une réponse.")
    cofinancing.status = CofinancingRequest.Status.CANCELLED
    cofinancing.answered_at = timezone.now()
    cofinancing.save(update_fields=["status", "answered_at"])
    return cofinancing


def _answerable(cofinancing: CofinancingRequest, by: User) -> CofinancingRequest:
    cofinancing = _locked_request(cofinancing)
    if by.role != Role.CONSEILLER or by.structure_id != cofinancing.structure_id:
        raise CofinancingError("Seul un conseiller de la structure sollicitée répond à cette demande.")
    if not cofinancing.is_pending:
        raise ConflictError("Cette demande a déjà reçu une réponse ou a été annulée.")
    return cofinancing


def _tell_titulaire(cofinancing: CofinancingRequest, event: str) -> None:
    dossier = Dossier.objects.select_related("titulaire", "formation").get(pk=cofinancing.dossier_id)
    cofinancing.dossier = dossier
    _tell(
        recipients=[(dossier.titulaire, dossier.titulaire.email)],
        template=f"{NOTIFICATIONS}/{event}",
        context=_context(cofinancing),
        url=reverse("dossiers:detail", args=[dossier.numero]) + "#financement-complementaire",
        dedup=f"cofinancing:{cofinancing.pk}:{event}",
    )


@transaction.atomic
def cofinancing_grant(*, cofinancing: CofinancingRequest, by: User, amount_cents: int, expected_version: int | None = None) -> CofinancingRequest:
    """The conseiller grants: an abondement of his structure is added to the dossier (the split
    recomputed, in the same transaction), the titulaire is told."""
    cofinancing = _answerable(cofinancing, by)
    price = Dossier.objects.filter(pk=cofinancing.dossier_id).values_list("proposed_price_cents", "price_cents").get()
    already = DossierAbondement.objects.filter(dossier_id=cofinancing.dossier_id).values_list("amount_cents", flat=True)
    room = (price[0] if price[0] is not None else price[1]) - sum(already)
    if amount_cents > room:
        raise CofinancingError(
            f"L'abondement ne peut pas dépasser le prix de la formation moins les abondements déjà accordés : {euros(max(room, 0))}."
        )
    abondement = dossier_services.abondement_add(
        dossier=cofinancing.dossier,
        financeur=financeur_of(cofinancing.structure),
        financeur_name=cofinancing.structure.name,
        amount_cents=amount_cents,
        by=by,
        expected_version=expected_version,
        notify=False,
    )
    cofinancing.status = CofinancingRequest.Status.GRANTED
    cofinancing.abondement = abondement
    cofinancing.answered_by = by
    cofinancing.answered_at = timezone.now()
    cofinancing.save(update_fields=["status", "abondement", "answered_by", "answered_at"])
    _tell_titulaire(cofinancing, "granted")
    return cofinancing


@transaction.atomic
def cofinancing_refuse(*, cofinancing: CofinancingRequest, by: User, reason: str) -> CofinancingRequest:
    """The conseiller refuses, with the reason the titulaire reads."""
    reason = reason.strip()
    if not reason:
        raise CofinancingError("Indiquez le motif du refus : le titulaire le lira.")
    cofinancing = _answerable(cofinancing, by)
    cofinancing.status = CofinancingRequest.Status.REFUSED
    cofinancing.reason = reason
    cofinancing.answered_by = by
    cofinancing.answered_at = timezone.now()
    cofinancing.save(update_fields=["status", "reason", "answered_by", "answered_at"])
    _tell_titulaire(cofinancing, "refused")
    return cofinancing
