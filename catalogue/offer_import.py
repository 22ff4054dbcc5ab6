"""An organisme publishes its offer in bulk: a CSV (one row per session, its formation and
action repeated) or an LHÉO XML file (the national language of training offers:
https://dev.lheo.org/languages/lheo/2.2/doc).

1. ``check_upload`` reads the whole file and checks every row before anything is written:
   the file itself (size, zip bomb, encoding, well-formed XML without DTD or entity), then
   each session (field by field) and the coherence of the rows of one formation. The valid
   sessions and the rejected ones (where, field, problem — in French) are kept in an
   ``OfferImport``; nothing else is written.
2. The person reads the report and confirms (``confirm``): a Celery task runs ``run``, which
   writes the valid sessions by chunks (each chunk one transaction), counting its progress.
3. Keys are the organisme's own ids: the formation's code (its public number is SIRET_code),
   the action's (or, without one, the action's description itself) and the session's.
   Importing the same file again changes nothing.

The CSV columns are listed in ``COLUMNS`` (and the README).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_xml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import phones
from cpf_portal.errors import ConflictError, UserFacingError
from cpf_portal.money import to_cents
from cpf_portal.queue import enqueue, enqueue_on_commit

from .importer import DAY_FORMATS as OPEN_DATA_DAY_FORMATS
from .importer import read_date, read_decimal
from .models import (
    ACTION_CONTACT_FIELDS,
    ACTION_TEACHING_FIELDS,
    ACTION_TYPES,
    NUMERO_VALIDATOR,
    REPERTORIES,
    Action,
    Certification,
    Commune,
    Formation,
    OfferImport,
    Organisme,
    Rythme,
    Session,
)

# The formation's description, as read from a row and as compared between its rows.
DESCRIPTION = ["intitule", "certification_type", "certification_code", "objectifs", "contenu", "resultats_attendus"]
# The action's columns (file names), then the session's.
ACTION_COLUMNS = [
    "action_code",
    "modalite",
    "rythme",
    "modalites_pedagogiques",
    "prerequis",
    "duree_heures",
    "heures_hebdo",
    "tva",
    "adresse",
    "code_commune",
    "prix_ttc",
    "contact_nom",
    "contact_courriel",
    "contact_telephone",
]
SESSION_COLUMNS = ["session_code", "date_debut", "date_fin", "entree_permanente", "inscription_debut", "inscription_fin", "places"]
COLUMNS = ["formation_code", *DESCRIPTION, *ACTION_COLUMNS, *SESSION_COLUMNS]
REQUIRED = ["formation_code", "intitule", "duree_heures", "session_code", "prix_ttc"]
MODALITES = {
    "presentiel": Formation.Modalite.PRESENTIEL,
    "présentiel": Formation.Modalite.PRESENTIEL,
    "distance": Formation.Modalite.DISTANCE,
    "à distance": Formation.Modalite.DISTANCE,
    "a distance": Formation.Modalite.DISTANCE,
    "mixte": Formation.Modalite.MIXTE,
}
LHEO_MODALITES = {"0": Formation.Modalite.PRESENTIEL, "1": Formation.Modalite.MIXTE, "2": Formation.Modalite.DISTANCE}
# Rythms as written in files (codes, labels, LHÉO's free text « rythme-formation »).
RYTHMES = [
    (re.compile(r"journ|jour\b|temps plein", re.I), Rythme.JOURNEE),
    (re.compile(r"soir", re.I), Rythme.SOIREE),
    (re.compile(r"week|samedi|dimanche", re.I), Rythme.WEEKEND),
    (re.compile(r"partiel", re.I), Rythme.TEMPS_PARTIEL),
]
DAY_FORMATS = (*OPEN_DATA_DAY_FORMATS, "%Y%m%d")  # and LHÉO's AAAAMMJJ
TVA = {"": 0, "0": 0, "5,5": 550, "5.5": 550, "20": 2000}
YES, NO = {"oui", "o", "1", "true", "vrai", "x"}, {"", "non", "n", "0", "false", "faux"}
# The formation's fields: every row of one formation must agree on them; the same for an action.
FORMATION_FIELDS = DESCRIPTION
ACTION_FIELDS = [*ACTION_TEACHING_FIELDS, "tva", "address", "commune_id", "price_cents", *ACTION_CONTACT_FIELDS]
SESSION_FIELDS = ["action", "start_date", "end_date", "permanent_entry", "registration_opens", "registration_closes", "places"]
CHUNK = 500


class FileRefused(UserFacingError):
    """The file as a whole cannot be read: nothing is checked further, nothing written."""


@dataclass
class OfferRow:
    """One session with its formation, as read (values still text) then normalised."""

    where: str
    formation_code: str = ""
    intitule: str = ""
    certification_type: str = ""
    certification_code: str = ""
    objectifs: str = ""
    contenu: str = ""
    resultats_attendus: str = ""
    action_code: str = ""
    modalite: str = ""
    rythme: str = ""
    rythmes: list[str] = field(default_factory=list)
    modalites_pedagogiques: str = ""
    prerequis: str = ""
    duree_heures: str | int = ""
    heures_hebdo: str | int | None = ""
    tva: str | int = ""
    address: str = ""
    commune_code: str = ""
    commune_id: int | None = None
    price: str = ""
    price_cents: int = 0
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    session_code: str = ""
    start_date: str | None = ""
    end_date: str | None = ""
    permanent_entry: str | bool = ""
    registration_opens: str | None = ""
    registration_closes: str | None = ""
    places: str | int = ""
    problems: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, column: str, problem: str) -> None:
        self.problems.append((column, problem))


# --- The file ---------------------------------------------------------------------------------


def _payload(upload) -> tuple[str, bytes]:
    """(name, content) of the upload, unzipped when it is a zip of one file; refuses what is
    too big, even once decompressed (a zip bomb is read only up to the limit)."""
    limit = settings.CPF_OFFER_IMPORT_MAX_BYTES
    name = upload.name or "fichier"
    if upload.size > limit:
        raise FileRefused(f"Le fichier dépasse {limit // 1_000_000} Mo : découpez votre catalogue en plusieurs fichiers.")
    content = upload.read()
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return name, content
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) != 1:
            raise FileRefused("L'archive zip doit contenir un seul fichier (CSV ou XML).")
        member = members[0]
        if member.file_size > limit:
            raise FileRefused(f"Le fichier contenu dans l'archive dépasse {limit // 1_000_000} Mo une fois décompressé.")
        with archive.open(member) as inner:
            data = inner.read(limit + 1)  # the declared size may lie: never read past the limit
        if len(data) > limit:
            raise FileRefused(f"Le fichier contenu dans l'archive dépasse {limit // 1_000_000} Mo une fois décompressé.")
        return member.filename, data
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError):
        raise FileRefused("L'archive zip est illisible ou protégée par un mot de passe.") from None


def _text(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(
            "Le fichier n'est pas encodé en UTF-8. Enregistrez-le au format « CSV UTF-8 » (ou XML en UTF-8), puis déposez-le à nouveau."
        ) from None
    if "\x00" in text:
        raise FileRefused("Ce fichier n'est pas un fichier texte (CSV ou XML).")
    return text


def read_file(upload) -> tuple[str, list[OfferRow]]:
    """(format, rows as read) of an upload, or ``FileRefused``."""
    name, content = _payload(upload)
    text = _text(content)
    if text.lstrip().startswith("<"):
        return OfferImport.Format.LHEO, _lheo_rows(text)
    if name.lower().endswith(".xml"):
        raise FileRefused("Ce fichier XML n'est pas bien formé : il ne commence pas par une balise.")
    return OfferImport.Format.CSV, _csv_rows(text)


def _csv_rows(text: str) -> list[OfferRow]:
    sample = text[:4096]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileRefused(
            f"Colonnes manquantes dans la première ligne du CSV : {', '.join(missing)}. Les colonnes attendues sont décrites sur cette page."
        )
    reader.fieldnames = header
    rows = []
    for line, raw in enumerate(reader, start=2):
        value = {key: (raw.get(key) or "").strip() for key in COLUMNS}
        rows.append(
            OfferRow(
                where=f"ligne {line}",
                formation_code=value["formation_code"],
                intitule=value["intitule"],
                certification_type=value["certification_type"].upper(),
                certification_code=value["certification_code"].upper(),
                objectifs=value["objectifs"],
                contenu=value["contenu"],
                resultats_attendus=value["resultats_attendus"],
                action_code=value["action_code"],
                modalite=value["modalite"],
                rythme=value["rythme"],
                modalites_pedagogiques=value["modalites_pedagogiques"],
                prerequis=value["prerequis"],
                duree_heures=value["duree_heures"],
                heures_hebdo=value["heures_hebdo"],
                tva=value["tva"],
                address=value["adresse"],
                commune_code=value["code_commune"],
                price=value["prix_ttc"],
                contact_name=value["contact_nom"],
                contact_email=value["contact_courriel"],
                contact_phone=value["contact_telephone"],
                session_code=value["session_code"],
                start_date=value["date_debut"],
                end_date=value["date_fin"],
                permanent_entry=value["entree_permanente"],
                registration_opens=value["inscription_debut"],
                registration_closes=value["inscription_fin"],
                places=value["places"],
            )
        )
    return rows


def _lheo_rows(text: str) -> list[OfferRow]:
    try:
        root = safe_xml(text.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FileRefused("Ce fichier XML contient une déclaration DTD ou des entités : elles sont refusées pour la sécurité du service.") from None
    except ParseError as error:
        raise FileRefused(f"Ce fichier XML n'est pas bien formé ({error}).") from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}lheo":
        raise FileRefused("Ce fichier XML n'est pas au format LHÉO : sa racine doit être l'élément <lheo>.")

    def text_of(element, path: str) -> str:
        found = element.find("/".join(f"{ns}{part}" for part in path.split("/"))) if element is not None else None
        return (found.text or "").strip() if found is not None else ""

    rows = []
    for f_index, formation in enumerate(root.iter(f"{ns}formation"), start=1):
        certification = formation.find(f"{ns}certification")
        rncp, rs = text_of(certification, "code-RNCP"), text_of(certification, "code-RS")
        for a_index, action in enumerate(formation.findall(f"{ns}action"), start=1):
            place = action.find(f"{ns}lieu-de-formation/{ns}coordonnees/{ns}adresse")
            address = " ".join((line.text or "").strip() for line in place.findall(f"{ns}ligne")) if place is not None else ""
            permanent = text_of(action, "modalites-entrees-sorties") == "1"
            contact = formation.find(f"{ns}contact-formation/{ns}coordonnees")
            action_code = action.get("numero", "").strip() or f"A{a_index}"
            for s_index, session in enumerate(action.findall(f"{ns}session"), start=1):
                rows.append(
                    OfferRow(
                        where=f"formation {f_index} › action {a_index} › session {s_index}",
                        formation_code=formation.get("numero", "").strip(),
                        intitule=text_of(formation, "intitule-formation"),
                        certification_type="RNCP" if rncp else ("RS" if rs else ""),
                        certification_code=(rncp or rs).upper(),
                        objectifs=text_of(formation, "objectif-formation"),
                        contenu=text_of(formation, "contenu-formation"),
                        resultats_attendus=text_of(formation, "resultats-attendus"),
                        action_code=action_code,
                        rythme=text_of(action, "rythme-formation"),
                        modalites_pedagogiques=text_of(action, "modalites-pedagogiques"),
                        prerequis=text_of(action, "conditions-specifiques").strip("- "),
                        duree_heures=text_of(action, "nombre-heures-total"),
                        heures_hebdo=text_of(action, "duree-hebdomadaire"),
                        modalite=LHEO_MODALITES.get(text_of(action, "modalites-enseignement"), text_of(action, "modalites-enseignement")),
                        contact_name=" ".join(filter(None, [text_of(contact, "prenom"), text_of(contact, "nom")])),
                        contact_email=text_of(contact, "courriel"),
                        contact_phone=text_of(contact, "telfixe/numtel") or text_of(contact, "portable/numtel"),
                        session_code=session.get("numero", "").strip(),
                        start_date=text_of(session, "periode/debut"),
                        end_date=text_of(session, "periode/fin"),
                        registration_opens=text_of(session, "periode-inscription/periode/debut"),
                        registration_closes=text_of(session, "periode-inscription/periode/fin"),
                        permanent_entry="oui" if permanent else "non",
                        address=address,
                        commune_code=text_of(place, "code-INSEE-commune"),
                        price=text_of(action, "prix-total-TTC"),
                        places=text_of(action, "nb-places-financees") or "",
                    )
                )
    if not rows:
        raise FileRefused("Ce fichier LHÉO ne contient aucune session (éléments <formation>, <action> et <session>).")
    return rows


# --- Each row ---------------------------------------------------------------------------------


def _int(row: OfferRow, column: str, value, *, default: int | None, minimum: int, label: str) -> int | None:
    text = str(value).strip().replace(" ", "")
    if not text:
        if default is None:
            row.refuse(column, f"{label} est obligatoire.")
        return default
    if not re.fullmatch(r"\d{1,6}", text) or int(text) < minimum:
        row.refuse(column, f"{label} doit être un nombre entier d'au moins {minimum}.")
        return default
    return int(text)


def _code(row: OfferRow) -> str:
    """The certification's code without its repertory written in front (« RS5367 » → « 5367 »)."""
    return row.certification_code.removeprefix(row.certification_type) if row.certification_type in REPERTORIES else row.certification_code


def _normalise(row: OfferRow, certifications: set[tuple[str, str]], communes: dict[str, int], today: datetime.date) -> None:
    """Check each field of ``row`` and turn its values into the models' (problems recorded)."""
    for column, label in [("formation_code", "Le code de la formation"), ("intitule", "L'intitulé"), ("session_code", "Le code de la session")]:
        if not getattr(row, column):
            row.refuse(column, f"{label} est obligatoire.")
    for column in ("formation_code", "action_code", "session_code"):
        value = getattr(row, column)
        if value and (len(value) > 50 or not NUMERO_VALIDATOR.regex.match(value)):
            row.refuse(column, "Ce code ne contient que des lettres, des chiffres, « _ » et « - » (50 caractères au plus).")
    if len(row.intitule) > 300:
        row.refuse("intitule", "L'intitulé ne dépasse pas 300 caractères.")
    if row.certification_type or row.certification_code:
        ctype, code = row.certification_type, _code(row)
        if ctype not in ACTION_TYPES:
            row.refuse(
                "certification_type",
                "Le type est RNCP, RS, PERMIS, BILAN, VAE ou CREATION (laissez vide pour une formation sans certification).",
            )
        elif (ctype, code) not in certifications:
            row.refuse("certification_code", f"La certification {ctype}{code} n'est pas connue du répertoire.")
        row.certification_code = code
    row.duree_heures = _int(row, "duree_heures", row.duree_heures, default=None, minimum=1, label="La durée en heures")
    hebdo = _int(row, "heures_hebdo", row.heures_hebdo or "0", default=None, minimum=0, label="La durée hebdomadaire")
    row.heures_hebdo = hebdo or None
    parts = [part.strip() for part in re.split(r"[,;|/]", row.rythme or "") if part.strip()]
    rythmes = {value for part in parts for pattern, value in RYTHMES if pattern.search(part) or part.lower() == value}
    if parts and not rythmes:
        row.refuse("rythme", "Le rythme est « journee », « soiree », « weekend » ou « temps_partiel » (plusieurs séparés par « , »).")
    row.rythmes = sorted(rythmes)
    if len(row.prerequis) > 5000 or len(row.modalites_pedagogiques) > 5000:
        row.refuse("prerequis", "Les prérequis et modalités pédagogiques ne dépassent pas 5 000 caractères.")
    modalite = MODALITES.get(str(row.modalite).strip().lower(), row.modalite) if row.modalite else Formation.Modalite.PRESENTIEL
    if modalite not in Formation.Modalite.values:
        row.refuse("modalite", "La modalité est « presentiel », « distance » ou « mixte ».")
    row.modalite = modalite
    tva = TVA.get(str(row.tva).strip().replace(" ", "").removesuffix("%"))
    if tva is None:
        row.refuse("tva", "La TVA est 0, 5,5 ou 20 (%).")
    row.tva = tva or 0
    if row.contact_email:
        try:
            validate_email(row.contact_email)
        except ValidationError:
            row.refuse("contact_courriel", "Le courriel du contact n'est pas une adresse valide.")
    if row.contact_phone:
        try:
            row.contact_phone = phones.normalize(row.contact_phone)
            phones.validate_any(row.contact_phone)
        except ValidationError:
            row.refuse("contact_telephone", "Le téléphone du contact compte 10 chiffres (ex. 03 87 00 00 00).")

    permanent = str(row.permanent_entry).strip().lower()
    if permanent not in YES | NO:
        row.refuse("entree_permanente", "Indiquez « oui » ou « non ».")
    row.permanent_entry = permanent in YES
    dates = {}
    for column, name in (("date_debut", "start_date"), ("date_fin", "end_date")):
        value = getattr(row, name) or ""
        try:
            dates[name] = read_date(value, DAY_FORMATS)
        except ValueError:
            row.refuse(column, "La date est au format JJ/MM/AAAA.")
            dates[name] = None
    for column, name in (("inscription_debut", "registration_opens"), ("inscription_fin", "registration_closes")):
        try:
            dates[name] = read_date(getattr(row, name) or "", DAY_FORMATS)
        except ValueError:
            row.refuse(column, "La date est au format JJ/MM/AAAA.")
            dates[name] = None
    row.start_date, row.end_date = dates["start_date"], dates["end_date"]
    row.registration_opens, row.registration_closes = dates["registration_opens"], dates["registration_closes"]
    if row.registration_opens and row.registration_closes and row.registration_closes < row.registration_opens:
        row.refuse("inscription_fin", "La fin des inscriptions précède leur ouverture.")
    if not row.permanent_entry and not (row.start_date and row.end_date) and ("date_debut", "La date est au format JJ/MM/AAAA.") not in row.problems:
        row.refuse("date_debut", "Une session à dates fixes a une date de début et une date de fin (ou indiquez une entrée permanente).")
    if row.start_date and row.end_date and row.end_date < row.start_date:
        row.refuse("date_fin", "La date de fin précède la date de début.")
    if row.end_date and row.end_date < today:
        row.refuse("date_fin", "Cette session est déjà terminée.")

    if row.modalite == Formation.Modalite.DISTANCE:
        row.commune_id, row.address = None, ""
    elif not row.commune_code:
        row.refuse("code_commune", "Indiquez le code INSEE de la commune du lieu de formation (ou la modalité « distance »).")
    elif row.commune_code not in communes:
        row.refuse("code_commune", f"Le code INSEE « {row.commune_code} » n'est pas celui d'une commune.")
    else:
        row.commune_id = communes[row.commune_code]
    if len(row.address) > 200:
        row.refuse("adresse", "L'adresse ne dépasse pas 200 caractères.")

    try:
        price = read_decimal(row.price.replace("€", ""))
        if price is None or price < 0 or price > 1_000_000 or price != price.quantize(Decimal("0.01")):
            raise InvalidOperation
        row.price_cents = to_cents(price)
    except (InvalidOperation, ValueError):
        row.refuse("prix_ttc", "Le prix TTC est un montant en euros, par exemple 1200 ou 1200,50." if row.price else "Le prix TTC est obligatoire.")
    row.places = _int(row, "places", row.places, default=12, minimum=1, label="Le nombre de places")


def _agree(row: OfferRow, reference: OfferRow, names: list[str], what: str) -> None:
    differing = [name for name in names if getattr(row, name) != getattr(reference, name)]
    if differing:
        row.refuse(differing[0], f"{what} est décrite autrement en {reference.where} ({', '.join(differing)}).")


def _check_formations(rows: list[OfferRow]) -> None:
    """The rows of one formation agree on its fields, the rows of one action on its; a
    session code appears once per formation. An action without a code is identified by its
    description (the rows describing it alike are one action)."""
    formations: dict[str, OfferRow] = {}
    actions: dict[tuple[str, str], OfferRow] = {}
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        if not row.formation_code:
            continue
        _agree(row, formations.setdefault(row.formation_code, row), FORMATION_FIELDS, f"La formation « {row.formation_code} »")
        if not row.action_code:
            description = repr([getattr(row, name) for name in ACTION_FIELDS]).encode()
            row.action_code = "auto-" + hashlib.sha256(description).hexdigest()[:16]
        else:
            _agree(row, actions.setdefault((row.formation_code, row.action_code), row), ACTION_FIELDS, f"L'action « {row.action_code} »")
        key = (row.formation_code, row.session_code)
        if row.session_code and key in seen:
            row.refuse("session_code", f"La session « {row.session_code} » figure déjà en {seen[key]}.")
        seen.setdefault(key, row.where)


def check_upload(*, organisme: Organisme, upload, by) -> OfferImport:
    """Read and check the whole file; keep the valid sessions and the report. Writes only the
    ``OfferImport`` (``FileRefused`` when the file cannot be read at all)."""
    if organisme.suspended_at is not None:
        raise UserFacingError("Votre organisme est suspendu : son catalogue ne peut pas être modifié.")
    fmt, rows = read_file(upload)
    codes = {row.commune_code for row in rows if row.commune_code}
    communes = dict(Commune.objects.filter(code_insee__in=codes).values_list("code_insee", "id"))
    pairs = {(row.certification_type, _code(row)) for row in rows if row.certification_type}
    certifications = set(Certification.objects.filter(type__in={t for t, _ in pairs}, code__in={c for _, c in pairs}).values_list("type", "code"))
    today = timezone.localdate()
    for row in rows:
        _normalise(row, certifications, communes, today)
    _check_formations(rows)
    valid = [row for row in rows if not row.problems]
    rejected = [[row.where, column, problem] for row in rows for column, problem in row.problems]
    stored = [_stored(row) for row in valid]
    return OfferImport.objects.create(
        organisme=organisme, uploaded_by=by, filename=(upload.name or "fichier")[:255], format=fmt, rows=stored, rejected=rejected, total=len(stored)
    )


def _stored(row: OfferRow) -> dict:
    data = asdict(row)
    for name in ("start_date", "end_date", "registration_opens", "registration_closes"):
        data[name] = data[name].isoformat() if data[name] else None
    for name in ("problems", "price", "commune_code", "rythme"):
        data.pop(name)
    return data


# --- Confirm and run --------------------------------------------------------------------------


def _awaiting_decision(offer_import: OfferImport) -> OfferImport:
    """The import locked, still checked and waiting for the person's decision."""
    offer_import = OfferImport.objects.select_for_update().get(pk=offer_import.pk)
    if offer_import.status != OfferImport.Status.CHECKED:
        raise ConflictError("Cet import a déjà été confirmé ou abandonné.")
    return offer_import


@transaction.atomic
def confirm(*, offer_import: OfferImport) -> OfferImport:
    """The person confirms the valid part: queue the import (the task starts after commit)."""
    offer_import = _awaiting_decision(offer_import)
    if not offer_import.total:
        raise UserFacingError("Aucune session valide à importer : corrigez le fichier, puis déposez-le à nouveau.")
    offer_import.status = OfferImport.Status.QUEUED
    offer_import.save(update_fields=["status"])
    from .tasks import run_offer_import  # the task module imports this one

    enqueue_on_commit(run_offer_import, offer_import.pk)
    return offer_import


@transaction.atomic
def abandon(*, offer_import: OfferImport) -> OfferImport:
    offer_import = _awaiting_decision(offer_import)
    offer_import.status = OfferImport.Status.ABANDONED
    offer_import.rows = []
    offer_import.save(update_fields=["status", "rows"])
    return offer_import


def requeue_stuck(*, older_than_minutes: int = 10) -> int:
    """Imports confirmed but not running (the broker was away) or stopped with the worker:
    queued again (``run`` resumes where the progress stopped)."""
    from .tasks import run_offer_import

    limit = timezone.now() - datetime.timedelta(minutes=older_than_minutes)
    stuck = OfferImport.objects.filter(status__in=[OfferImport.Status.QUEUED, OfferImport.Status.RUNNING], created_at__lt=limit)
    stuck = stuck.filter(Q(started_at__isnull=True) | Q(started_at__lt=limit))
    ids = list(stuck.values_list("pk", flat=True))
    for pk in ids:
        enqueue(run_offer_import, pk)
    return len(ids)


def run(import_id: int) -> OfferImport:
    """Write the confirmed sessions chunk by chunk (each chunk in its own transaction, the
    progress saved with it). Safe to run again: what was written is found unchanged."""
    with transaction.atomic():
        offer_import = OfferImport.objects.select_for_update().get(pk=import_id)
        if offer_import.status not in (OfferImport.Status.QUEUED, OfferImport.Status.RUNNING):
            return offer_import
        offer_import.status = OfferImport.Status.RUNNING
        offer_import.started_at = offer_import.started_at or timezone.now()
        offer_import.save(update_fields=["status", "started_at"])
    rows = offer_import.rows
    try:
        for start in range(offer_import.done, len(rows), CHUNK):
            with transaction.atomic():
                counts = _write(offer_import.organisme, rows[start : start + CHUNK])
                offer_import.done = min(len(rows), start + CHUNK)
                offer_import.created += counts["created"]
                offer_import.updated += counts["updated"]
                offer_import.unchanged += counts["unchanged"]
                offer_import.save(update_fields=["done", "created", "updated", "unchanged"])
    except Exception as error:
        OfferImport.objects.filter(pk=import_id).update(status=OfferImport.Status.FAILED, failure=str(error)[:2000], finished_at=timezone.now())
        raise
    offer_import.status, offer_import.finished_at, offer_import.rows = OfferImport.Status.DONE, timezone.now(), []
    offer_import.save(update_fields=["status", "finished_at", "rows"])
    return offer_import


def _day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _upsert(model, existing: dict, wanted: dict, create) -> tuple[dict, set]:
    """(objects by key, keys created or changed): the ``existing`` objects brought to the
    ``wanted`` values (key → field values), the missing ones made by ``create(key, values)``;
    one bulk insert and one bulk update."""
    new, changed, touched = [], [], set()
    now = timezone.now()
    for key, values in wanted.items():
        obj = existing.get(key)
        if obj is None:
            obj = existing[key] = create(key, values)
            new.append(obj)
        elif any(getattr(obj, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(obj, name, value)
            obj.updated_at = now
            changed.append(obj)
        else:
            continue
        touched.add(key)
    model.objects.bulk_create(new)
    if changed:
        model.objects.bulk_update(changed, [*next(iter(wanted.values())), "updated_at"])
    return existing, touched


def _write(organisme: Organisme, rows: list[dict]) -> dict[str, int]:
    """Upsert the formations, then the actions, then the sessions of ``rows`` (a few queries
    per chunk). An action's sessions take its price and place (``Session.follow``, trigger)."""
    numeros = {f"{organisme.siret}_{row['formation_code']}": row for row in rows}
    existing = {formation.numero: formation for formation in Formation.objects.filter(numero__in=numeros)}
    foreign = [numero for numero, formation in existing.items() if formation.organisme_id != organisme.pk]
    if foreign:
        raise ConflictError(f"La formation {foreign[0]} appartient à un autre organisme.")
    certifications = {
        (c.type, c.code): c.pk for c in Certification.objects.filter(code__in={r["certification_code"] for r in rows if r["certification_code"]})
    }
    wanted = {
        numero: {
            "intitule": row["intitule"],
            "certification_id": certifications.get((row["certification_type"], row["certification_code"])),
            "objectifs": row["objectifs"],
            "contenu": row["contenu"],
            "resultats_attendus": row["resultats_attendus"],
        }
        for numero, row in numeros.items()
    }
    formations, _ = _upsert(Formation, existing, wanted, lambda numero, values: Formation(numero=numero, organisme=organisme, **values))

    def formation_id(row):
        return formations[f"{organisme.siret}_{row['formation_code']}"].pk

    wanted = {(formation_id(row), row["action_code"]): {name: row[name] for name in ACTION_FIELDS} for row in rows}
    existing_actions = {
        (action.formation_id, action.reference): action
        for action in Action.objects.filter(formation_id__in={key[0] for key in wanted}, reference__in={key[1] for key in wanted})
    }
    actions, actions_changed = _upsert(Action, existing_actions, wanted, lambda key, values: Action(formation_id=key[0], reference=key[1], **values))

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    keys = {(formation_id(row), row["session_code"]): row for row in rows}
    sessions = {
        (session.formation_id, session.reference): session
        for session in Session.objects.filter(formation_id__in={key[0] for key in keys}, reference__in={key[1] for key in keys})
    }
    new_sessions, changed_sessions = [], []
    for (fid, reference), row in keys.items():
        action = actions[(fid, row["action_code"])]
        values = {
            "start_date": _day(row["start_date"]),
            "end_date": _day(row["end_date"]),
            "permanent_entry": row["permanent_entry"],
            "registration_opens": _day(row["registration_opens"]),
            "registration_closes": _day(row["registration_closes"]),
            "places": row["places"],
        }
        session = sessions.get((fid, reference))
        if session is None:
            new_sessions.append(Session(reference=reference, **values).follow(action))
            counts["created"] += 1
        elif (
            (fid, row["action_code"]) in actions_changed
            or session.action_id != action.pk
            or any(getattr(session, name) != value for name, value in values.items())
        ):
            for name, value in values.items():
                setattr(session, name, value)
            changed_sessions.append(session.follow(action))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    Session.objects.bulk_create(new_sessions)
    if changed_sessions:
        Session.objects.bulk_update(changed_sessions, SESSION_FIELDS)
    return counts
