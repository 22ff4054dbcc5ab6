"""Demo dossiers for `make run`: CP-FORMATION's dossiers in every step of their life, built
through the real services along past dates (sent weeks ago, trained, service fait validated,
billed, paid), so a person can walk the organisme's inbox and its billing right after start,
and the demo operator finds a payment batch to run. Idempotent: nothing is added once its
titulaires exist (a development database with dossiers of its own still gets them)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from accounts.models import Role, User
from billing import services as billing
from catalogue.models import Action, Formation, Modalite, Rythme, Session
from documents import services as documents
from dossiers import deadlines, services
from dossiers.models import Dossier
from dossiers.workflow import Actor
from evaluations import services as evaluation_services
from evaluations.models import CRITERIA_FIELDS
from financing import dsn, payments
from financing import services as money

CARD = payments.Card(number="4242424242424242", expiry_month=12, expiry_year=2099, cvc="123")
RIB = {"holder": "CP-FORMATION", "iban": "FR7630004000010000123456789", "bic": "BNPAFRPPXXX"}
PEOPLE = [
    ("Léa", "Petit"),
    ("Hugo", "Moreau"),
    ("Chloé", "Garnier"),
    ("Nathan", "Roux"),
    ("Inès", "Fournier"),
    ("Lucas", "Girard"),
    ("Jade", "Bonnet"),
    ("Louis", "Lambert"),
    ("Manon", "Fontaine"),
    ("Gabriel", "Chevalier"),
    ("Paul", "Mercier"),
]
PROFESSIONAL = {"diploma": "niv4", "diploma_year": 2012, "socio_professional_category": "5", "employment_status": "salarie"}


MEN = {"Hugo", "Nathan", "Lucas", "Louis", "Gabriel", "Paul"}


def _nir(order: int, sex: str = "2") -> str:
    """Born in May 1992 in Metz; the first digit tells a man (1) from a woman (2)."""
    body = f"{sex}920557463{order:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def _titulaire(index: int, first: str, last: str, password: str) -> User:
    email = f"{first.lower().replace('é', 'e').replace('è', 'e').replace('ï', 'i')}.{last.lower()}@cpf-demo.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        now = timezone.now()
        user = User(
            email=email,
            role=Role.TITULAIRE,
            nir=_nir(500 + index, "1" if first in MEN else "2"),
            first_name=first,
            last_name=last,
            birth_date=datetime.date(1992, 5, 14),
            activated_at=now,
            cgu_accepted_at=now,
        )
        user.set_password(password)
        user.save()
        dsn.credit_full_years(money.account_for(user), (2023, 2024, 2025), now=now)
    return user


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=deadlines.PARIS)


class Walk:
    """One dossier walked through the table at the dates of its session: ``session`` (an
    open session of the catalogue, shared), or a session of ``formation``'s first action
    from ``start`` for ``days`` days (a past or running one, made for the walk)."""

    def __init__(
        self,
        formation: Formation,
        staff: User,
        titulaire: User,
        *,
        start: datetime.date | None = None,
        days: int = 4,
        sent_at: datetime.datetime | None,
        session: Session | None = None,
    ):
        if session is None:
            action = formation.actions.order_by("pk").first()
            session = Session(start_date=start, end_date=start + datetime.timedelta(days=days), places=12).follow(action)
            session.save()
        self.session = session
        start = session.start_date
        self.staff, self.titulaire = staff, titulaire
        self.start, self.end = start, self.session.end_date
        # Sent 16 jours ouvrés before the start, or at the moment given (never in the future);
        # proposed two hours later, accepted the next day.
        self.sent_at = sent_at or _at(deadlines.subtract_working_days(start, 16), 9)

    def fire(self, dossier: Dossier, name: str, actor: Actor, by, now: datetime.datetime, payload: dict | None = None) -> Dossier:
        return services.dossier_transition(dossier_id=dossier.pk, name=name, actor=actor, by=by, payload=payload or {}, now=now)

    def sent(self) -> Dossier:
        # Created a quarter of an hour before it is sent, « Mes informations » validated between.
        dossier = services.dossier_create(titulaire=self.titulaire, session=self.session, now=self.sent_at - datetime.timedelta(minutes=15))
        personal = {
            "first_name": self.titulaire.first_name,
            "usage_name": "",
            "last_name": self.titulaire.last_name,
            "phone_mobile": "0612345678",
            "phone_landline": "",
            "email": self.titulaire.email,
            "street_number": "3",
            "street_repetition": "",
            "street_type": "RUE",
            "street_name": "des Jardins",
            "address_complement": "",
            "locality": "",
            "postal_code": "57000",
            "city": "Metz",
        }
        dossier = services.dossier_save_info(
            dossier=dossier,
            titulaire=self.titulaire,
            professional=PROFESSIONAL,
            personal=personal,
            save_to_account=False,
            now=self.sent_at - datetime.timedelta(minutes=5),
        )
        return self.fire(dossier, "send", Actor.TITULAIRE, self.titulaire, self.sent_at, {"consent": True})

    def proposed(self) -> Dossier:
        dossier = self.sent()
        payload = {
            "price_cents": self.session.price_cents,
            "start_date": self.start,
            "end_date": self.end,
            "duree_heures": self.session.action.duree_heures,
        }
        return self.fire(dossier, "propose", Actor.ORGANISME, self.staff, self.sent_at + datetime.timedelta(hours=2), payload)

    def accepted(self) -> Dossier:
        dossier = self.proposed()
        return services.dossier_pay_and_accept(
            dossier=dossier,
            titulaire=self.titulaire,
            card=CARD,
            idempotency_key=uuid.uuid4(),
            expected_version=dossier.version,
            expected_reste_cents=dossier.reste_a_payer_cents - dossier.avoir_cents,
            now=self.sent_at + datetime.timedelta(days=1),
        )

    def in_training(self) -> Dossier:
        return self.fire(self.accepted(), "enter", Actor.ORGANISME, self.staff, _at(self.start, 14))

    def service_done(self, *, exit_reason: str = "complete", rate: int = 100, declared_on: datetime.date | None = None) -> Dossier:
        """The exit declared the working day after the end, or on ``declared_on``."""
        payload = {"exit_reason": exit_reason, "completion_rate": rate, "exit_date": self.end, "force_majeure": False}
        declared_at = _at(declared_on or deadlines.add_working_days(self.end, 1), 10)
        return self.fire(self.in_training(), "declare_service_done", Actor.ORGANISME, self.staff, declared_at, payload)

    def validated(self, **kwargs) -> Dossier:
        dossier = self.service_done(**kwargs)
        return self.fire(dossier, "validate_service", Actor.SYSTEM, None, dossier.deadline_at)


# What the demo's former trainees thought of their training: (stars per criterion, comment, published).
EVALUATIONS = [
    ((5, 5, 5, 4, 5), "Formateur très disponible, exercices proches de mon travail. J'ai obtenu le score visé au test.", True),
    ((4, 5, 4, 3, 4), "Bon contenu, mais la salle manquait de prises pour les ordinateurs portables.", False),
    ((4, 4, 5, 4, 3), "", False),
    ((3, 4, 4, 3, 4), "", False),
]


def _evaluations(ready: list[Dossier], partial: Dossier, earlier: Dossier, operator) -> None:
    """Evaluations of the demo's ended trainings: the formation shows its rating, one comment
    is published, one waits in the operators' queue."""
    for dossier, (stars, comment, published) in zip([*ready, earlier, partial], EVALUATIONS, strict=True):
        evaluation = evaluation_services.evaluation_create(
            dossier=dossier,
            by=dossier.titulaire,
            scores=dict(zip(CRITERIA_FIELDS, stars, strict=True)),
            comment=comment,
            training_confirmed=True,
            now=_at(dossier.effective_end_date + datetime.timedelta(days=3), 18),
        )
        if published and operator is not None:
            evaluation_services.evaluation_moderate(evaluation_id=evaluation.pk, by=operator, publish=True)


def _demo_formation(organisme, code: str, intitule: str, objectifs: str, *, reference: str, **action) -> Formation:
    """A demo formation of the organisme with one action (once)."""
    formation, _ = Formation.objects.get_or_create(
        numero=f"{organisme.siret}_{code}", defaults={"organisme": organisme, "intitule": intitule, "objectifs": objectifs}
    )
    Action.objects.get_or_create(formation=formation, reference=reference, defaults=action)
    return formation


def _distance_formation(organisme, code: str, intitule: str, objectifs: str, *, reference: str, **action) -> Formation:
    """A demo formation of the organisme taught at a distance in the evening (once)."""
    return _demo_formation(organisme, code, intitule, objectifs, reference=reference, modalite=Modalite.DISTANCE, rythmes=[Rythme.SOIREE], **action)


def _in_metz(organisme, example: Formation, code: str, intitule: str, objectifs: str, *, reference: str, **action) -> Formation:
    """A demo formation of the organisme taught at its place in Metz, as the seed's example."""
    place = example.actions.order_by("pk").values("address", "postal_code", "commune_id").first()
    return _demo_formation(
        organisme, code, intitule, objectifs, reference=reference, modalite=Modalite.PRESENTIEL, rythmes=[Rythme.JOURNEE], **place, **action
    )


def _demo_titulaire_documents(organisme, staff: User, contact: dict, today: datetime.date) -> Dossier | None:
    """The demo titulaire's « Mes documents »: a short training finished two months ago (paid
    by card: its receipt; validated: its certificat de réalisation) and an attestation de droits."""
    camille = User.objects.filter(email="titulaire@cpf-demo.example").first()
    if camille is None:
        return None
    toeic = _distance_formation(
        organisme,
        "TOEIC-14H",
        "Anglais : préparation au TOEIC en 14 heures",
        "Réussir le TOEIC Listening and Reading.",
        reference="TOEIC-DISTANCE",
        duree_heures=14,
        heures_hebdo=7,
        price_cents=45_000,
        **contact,
    )
    finished = Walk(toeic, staff, camille, start=today - datetime.timedelta(days=70), days=14, sent_at=None).validated()
    documents.receipt_for(payment=finished.payment)
    documents.certificate_for(dossier=finished)
    documents.rights_attestation_create(user=camille, on_date=today)
    return finished


def load(organisme, staff: User, password: str, *, today: datetime.date | None = None) -> str:
    """CP-FORMATION's demo dossiers, invoices and payment batches. Returns a one-line report."""
    if User.objects.filter(email__endswith="@cpf-demo.example", role=Role.TITULAIRE, nir=_nir(500)).exists():
        return "dossiers de démonstration déjà présents"
    today = today or timezone.localdate()
    formation = Formation.objects.get(numero=f"{organisme.siret}_BRIGHT-ANGLAIS")  # the seed's example
    contact = {"contact_name": "Service des inscriptions", "contact_email": "inscriptions@cp-formation.example"}
    formation.actions.filter(contact_email="").update(**contact)
    # A formation with prérequis: its request waits for the acknowledgement (2 jours ouvrés,
    # then 30 days to answer).
    advanced = _distance_formation(
        organisme,
        "ANGLAIS-C1",
        "Anglais professionnel avancé (niveau C1) à distance",
        "Conduire une réunion et négocier en anglais.",
        reference="C1-DISTANCE",
        prerequis="Niveau B2 attesté (test de positionnement ou certification de moins de deux ans).",
        duree_heures=40,
        heures_hebdo=4,
        price_cents=150_000,
        **contact,
    )
    # The seed's example keeps its own sessions and price (870 €): the requests to come share
    # its next session, the trainings that ended had sessions of their own (ended, so not
    # listed); the running short training and the long one (an acompte) are formations of
    # their own. The example's page lists only its sessions open to registration, at its price.
    place = {"organisme": organisme, "example": formation}
    intensive = _in_metz(
        **place,
        code="ANGLAIS-INTENSIF",
        intitule="Anglais professionnel : parcours intensif de six mois",
        objectifs="Atteindre le niveau B2 en anglais professionnel en six mois.",
        reference="INTENSIF-METZ",
        duree_heures=300,
        heures_hebdo=12,
        price_cents=480_000,
        **contact,
    )
    short = _in_metz(
        **place,
        code="ANGLAIS-REUNION",
        intitule="Anglais : prendre la parole en réunion",
        objectifs="Présenter un sujet et animer un échange en anglais lors d'une réunion.",
        reference="REUNION-METZ",
        duree_heures=14,
        price_cents=25_000,
        **contact,
    )
    people = [_titulaire(index, first, last, password) for index, (first, last) in enumerate(PEOPLE)]
    now, future = timezone.now(), deadlines.add_working_days(today, 20)
    soon = deadlines.add_working_days(today, 10)
    upcoming = Session.objects.open(today).filter(formation=formation, start_date__gte=soon).order_by("start_date", "pk").first()
    if upcoming is None:
        upcoming = Session(start_date=future, end_date=future + datetime.timedelta(days=4), places=12).follow(
            formation.actions.order_by("pk").first()
        )
        upcoming.save()

    def walk(person: int, start: datetime.date | None = None, days: int = 4, on: Formation = formation, sent_at=None) -> Walk:
        return Walk(on, staff, people[person], start=start, days=days, sent_at=sent_at, session=None if start else upcoming)

    walk(0, sent_at=now - datetime.timedelta(hours=3)).sent()
    Walk(advanced, staff, people[10], start=future, days=30, sent_at=now - datetime.timedelta(hours=5)).sent()
    walk(1, sent_at=now - datetime.timedelta(days=1)).proposed()
    walk(2, sent_at=now - datetime.timedelta(days=3)).accepted()
    walk(3, deadlines.subtract_working_days(today, 2), days=10, on=short).in_training()
    # A session of six months: the entry makes an acompte of 25 % billable.
    walk(4, deadlines.subtract_working_days(today, 5), days=180, on=intensive).in_training()
    # Declared yesterday: the 5 jours ouvrés of the automatic validation run from there.
    walk(5, deadlines.subtract_working_days(today, 6), days=4).service_done(declared_on=deadlines.subtract_working_days(today, 1))
    ready = [walk(6, today - datetime.timedelta(days=40)).validated(), walk(7, today - datetime.timedelta(days=38)).validated()]
    partial = walk(8, today - datetime.timedelta(days=60)).validated(exit_reason="abandon", rate=60)
    earlier = walk(9, today - datetime.timedelta(days=75)).validated()

    finished = _demo_titulaire_documents(organisme, staff, contact, today)

    billing.bank_account_save(organisme=organisme, by=staff, **RIB)
    operator = User.objects.filter(role=Role.OPERATEUR).order_by("pk").first()
    _evaluations(ready, partial, earlier, operator)
    # The demo titulaire's own training ended last week: the organisme declared the exit, his
    # evaluation is awaited (« Mes dossiers », the dossier's page, a notification).
    demo_titulaire = User.objects.filter(email="titulaire@cpf-demo.example").first()
    if demo_titulaire is not None:
        # Declared yesterday: no deadline of the demo is past when it loads.
        Walk(short, staff, demo_titulaire, start=deadlines.subtract_working_days(today, 9), days=2, sent_at=None).service_done(
            declared_on=deadlines.subtract_working_days(today, 1)
        )
    paid_on = _at(today - datetime.timedelta(days=30))
    first_invoice = billing.invoice_issue(
        organisme=organisme, dossier_ids=[earlier.pk, *([finished.pk] if finished else [])], by=staff, now=_at(today - datetime.timedelta(days=55))
    )
    billing.batch_execute(batch=billing.batch_prepare(by=operator, now=paid_on), by=operator, now=paid_on)
    pending = billing.invoice_issue(organisme=organisme, dossier_ids=[partial.pk], by=staff, now=_at(today - datetime.timedelta(days=10)))
    billing.batch_prepare(by=operator, now=_at(today - datetime.timedelta(days=1)))
    return (
        f"{Dossier.objects.filter(organisme=organisme).count()} dossiers de démonstration ; factures n° {first_invoice.number} (payée) "
        f"et n° {pending.number} (dans un lot de paiement à exécuter) ; {len(ready)} dossiers à facturer"
    )
