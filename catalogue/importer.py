"""Import of a catalogue CSV whose columns follow the open-data catalogue of CPF trainings
(« moncompteformation_catalogueformation », separator « ; »).

One row = one formation offered in one département (the open data's grain). Each row is
validated on its own and written in its own savepoint: a rejected row writes nothing and is
reported with its line number and reasons; the others are imported. Re-importing the same
file updates what exists and creates no duplicate.

Columns read (open data): numero_formation, intitule_formation, points_forts, siret, nom_of,
type_referentiel, code_rncp, code_inventaire, intitule_certification,
libelle_niveau_sortie_formation, libelle_code_formacode_principal, code_formacode_1,
nombre_heures_total_mean (or _min), frais_ttc_tot_mean (or _min), code_departement,
nb_session_active, nb_session_a_distance.
Optional columns of this portal, for a precise session: code_commune (INSEE), adresse,
date_debut, date_fin (JJ/MM/AAAA or AAAA-MM-JJ), objectifs, contenu.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from cpf_portal.money import to_cents

from .models import Action, Certification, Commune, Formation, Organisme, Session
from .validators import normalize_siret, validate_siret

REQUIRED = ["numero_formation", "intitule_formation", "siret", "nom_of", "code_departement"]
NIVEAUX = {"3": "3", "4": "4", "5": "5", "6": "6", "7": "7", "8": "8"}


@dataclass
class Rejected:
    line: int
    numero: str
    reasons: list[str]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


class RowError(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def read_decimal(value: str) -> Decimal | None:
    """« 1 150,50 » → Decimal("1150.50"); None when empty, ValueError when not a number."""
    value = (value or "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(value) from None


def read_date(value: str, formats: tuple[str, ...] = DAY_FORMATS) -> datetime.date | None:
    """A day in one of ``formats``; None when empty, ValueError when not a date."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in formats:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _first(row: dict, *names: str) -> str:
    for name in names:
        value = (row.get(name) or "").strip()
        if value:
            return value
    return ""


@dataclass
class ParsedRow:
    numero: str
    intitule: str
    siret: str
    organisme_name: str
    hours: int
    price_cents: int
    commune: Commune | None
    remote: bool
    mixed: bool
    certification: tuple[str, str, str, str] | None  # type, code, libellé, niveau
    objectifs: str
    contenu: str
    description: str
    domaine: str
    address: str
    start: datetime.date | None
    end: datetime.date | None


def parse_row(row: dict, communes_by_departement: dict[str, Commune]) -> ParsedRow:
    """Validate one CSV row; raise RowError with every reason in French."""
    reasons: list[str] = []
    for name in REQUIRED:
        if not (row.get(name) or "").strip():
            reasons.append(f"colonne « {name} » vide")
    numero = (row.get("numero_formation") or "").strip()
    if numero and not re.fullmatch(r"[0-9A-Za-z_\-]{1,80}", numero):
        reasons.append("numero_formation : seuls lettres, chiffres, « _ » et « - » sont admis")
    siret = normalize_siret(row.get("siret", ""))
    if siret:
        try:
            validate_siret(siret)
        except ValidationError as error:
            reasons.append(f"siret : {error.messages[0]}")

    hours = None
    try:
        value = read_decimal(_first(row, "nombre_heures_total_mean", "nombre_heures_total_min", "nombre_heures_total_max"))
        if value is None:
            reasons.append("durée absente (nombre_heures_total_mean)")
        elif value <= 0:
            reasons.append("durée : le nombre d'heures doit être positif")
        else:
            hours = int(value.to_integral_value(rounding="ROUND_CEILING"))
    except ValueError as error:
        reasons.append(f"durée : « {error} » n'est pas un nombre")

    price_cents = None
    try:
        value = read_decimal(_first(row, "frais_ttc_tot_mean", "frais_ttc_tot_min", "frais_ttc_tot_max"))
        if value is None:
            reasons.append("prix absent (frais_ttc_tot_mean)")
        elif value < 0:
            reasons.append("prix : il ne peut pas être négatif")
        else:
            price_cents = to_cents(value)
    except ValueError as error:
        reasons.append(f"prix : « {error} » n'est pas un nombre")

    try:
        actives = int(read_decimal(row.get("nb_session_active", "")) or 1)
        distance = int(read_decimal(row.get("nb_session_a_distance", "")) or 0)
    except ValueError:
        reasons.append("nb_session_active / nb_session_a_distance : nombres attendus")
        actives, distance = 1, 0
    remote = distance > 0 and distance >= actives
    mixed = 0 < distance < actives

    commune = None
    code_commune = (row.get("code_commune") or "").strip()
    departement = (row.get("code_departement") or "").strip().upper().zfill(2) if row.get("code_departement") else ""
    if not remote:
        if code_commune:
            commune = Commune.objects.filter(code_insee=code_commune).first()
            if commune is None:
                reasons.append(f"code_commune « {code_commune} » inconnu")
        elif departement:
            commune = communes_by_departement.get(departement)
            if commune is None:
                reasons.append(f"code_departement « {departement} » inconnu")

    certification = None
    referentiel = (row.get("type_referentiel") or "").strip().upper()
    if referentiel:
        code = _first(row, "code_rncp") if referentiel == "RNCP" else _first(row, "code_inventaire", "code_rs")
        code = re.sub(r"^(RNCP|RS)", "", code.upper())
        if referentiel not in ("RNCP", "RS"):
            reasons.append(f"type_referentiel « {referentiel} » : RNCP ou RS attendu")
        elif not code:
            reasons.append(f"code de certification {referentiel} absent")
        else:
            niveau = re.search(r"([3-8])", row.get("libelle_niveau_sortie_formation") or "")
            certification = (
                referentiel,
                code,
                (row.get("intitule_certification") or "").strip() or f"Certification {referentiel}{code}",
                NIVEAUX.get(niveau.group(1), "") if niveau else "",
            )

    start = end = None
    try:
        start = read_date(row.get("date_debut", ""))
        end = read_date(row.get("date_fin", ""))
    except ValueError as error:
        reasons.append(f"date « {error} » : format JJ/MM/AAAA attendu")
    if (start is None) != (end is None):
        reasons.append("date_debut et date_fin vont ensemble")
    elif start and end and end < start:
        reasons.append("date_fin antérieure à date_debut")

    if reasons:
        raise RowError(reasons)
    points_forts = (row.get("points_forts") or "").strip()
    return ParsedRow(
        numero=numero,
        intitule=row["intitule_formation"].strip()[:300],
        siret=siret,
        organisme_name=row["nom_of"].strip()[:200],
        hours=hours,
        price_cents=price_cents,
        commune=commune,
        remote=remote,
        mixed=mixed,
        certification=certification,
        objectifs=(row.get("objectifs") or "").strip() or points_forts,
        contenu=(row.get("contenu") or "").strip(),
        description=points_forts,
        domaine=_first(row, "libelle_code_formacode_principal", "libelle_nsf_1")[:200],
        address=(row.get("adresse") or "").strip()[:200],
        start=start,
        end=end,
    )


def _save(parsed: ParsedRow) -> bool:
    """Write one validated row; True when the formation is new."""
    organisme, _ = Organisme.objects.get_or_create(siret=parsed.siret, defaults={"raison_sociale": parsed.organisme_name})
    certification = None
    if parsed.certification:
        ctype, code, libelle, niveau = parsed.certification
        certification, _ = Certification.objects.get_or_create(type=ctype, code=code, defaults={"libelle": libelle[:300], "niveau": niveau})
    modalite = Formation.Modalite.DISTANCE if parsed.remote else (Formation.Modalite.MIXTE if parsed.mixed else Formation.Modalite.PRESENTIEL)
    formation, created = Formation.objects.update_or_create(
        numero=parsed.numero,
        defaults={
            "intitule": parsed.intitule,
            "organisme": organisme,
            "certification": certification,
            "description": parsed.description,
            "objectifs": parsed.objectifs,
            "contenu": parsed.contenu,
            "domaine": parsed.domaine,
            "active": True,
        },
    )
    formation.full_clean()
    # One action per place of the formation (the open data has one row per formation and place).
    action, _ = Action.objects.update_or_create(
        formation=formation,
        reference=f"opendata-{parsed.commune.code_insee if parsed.commune else 'distance'}",
        defaults={
            "modalite": modalite,
            "duree_heures": parsed.hours,
            "price_cents": parsed.price_cents,
            "commune": parsed.commune,
            "address": "" if parsed.remote else parsed.address,
        },
    )
    action.full_clean()
    session = action.sessions.first() or Session()
    session.follow(action)
    session.permanent_entry = parsed.start is None
    session.start_date, session.end_date = parsed.start, parsed.end
    session.active = True
    session.full_clean()
    session.save()
    return created


def import_catalogue(text: str) -> ImportReport:
    """Import the CSV ``text``; every valid row is saved, every invalid one reported."""
    report = ImportReport()
    sample = text[:4096]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        report.rejected.append(Rejected(line=1, numero="", reasons=[f"colonnes absentes : {', '.join(missing)}"]))
        return report
    # The place of a row without a commune: the most populated commune of its département.
    communes_by_departement: dict[str, Commune] = {}
    for commune in Commune.objects.order_by("departement", "-population").distinct("departement"):
        communes_by_departement[commune.departement] = commune
    for line, row in enumerate(reader, start=2):
        numero = (row.get("numero_formation") or "").strip()
        try:
            parsed = parse_row(row, communes_by_departement)
            with transaction.atomic():
                created = _save(parsed)
        except RowError as error:
            report.rejected.append(Rejected(line=line, numero=numero, reasons=error.reasons))
            continue
        except ValidationError as error:
            report.rejected.append(Rejected(line=line, numero=numero, reasons=error.messages))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report
