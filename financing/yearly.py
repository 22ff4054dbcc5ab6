"""Import of the yearly declarations (one row per person and year) that credit the accounts.

    nir;annee;statut;heures_travaillees[;faible_qualification]

statut: salarie | independant | artiste_auteur; heures_travaillees: hours worked in the year
(a salarié at ≥ 803,5 h of the 1 607 legal hours gets the full year); faible_qualification:
1 when the person has no level-3 qualification or is a worker with RQTH (else the diploma
declared in « Mes informations » decides). Re-running the same file credits nothing twice.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from accounts import nir as nir_lib
from accounts.models import User

from .models import YearlyDeclaration
from .services import account_for, is_low_qualification, yearly_credit

STATUSES = {choice.value for choice in YearlyDeclaration.Status}


@dataclass
class YearlyReport:
    credited: int = 0
    credited_cents: int = 0
    already: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_yearly(text: str, *, current_year: int) -> YearlyReport:
    report = YearlyReport()
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    missing = {"nir", "annee", "statut", "heures_travaillees"} - set(reader.fieldnames or [])
    if missing:
        report.rejected.append((1, f"colonnes absentes : {', '.join(sorted(missing))}"))
        return report
    for line, row in enumerate(reader, start=2):
        reasons = []
        try:
            info = nir_lib.validate(row.get("nir", ""))
        except Exception as error:  # ValidationError: message for the report
            reasons.append(f"NIR : {getattr(error, 'messages', [str(error)])[0]}")
            info = None
        try:
            year = int(row.get("annee", ""))
            if not 2019 <= year < current_year:
                reasons.append(f"année {year} : une année écoulée depuis 2019 est attendue")
        except ValueError:
            reasons.append("année : nombre attendu")
            year = None
        status = (row.get("statut") or "").strip()
        if status not in STATUSES:
            reasons.append(f"statut « {status} » : salarie, independant ou artiste_auteur attendu")
        try:
            hours = Decimal((row.get("heures_travaillees") or "").replace(",", ".").strip())
            if hours < 0:
                reasons.append("heures travaillées négatives")
        except InvalidOperation:
            reasons.append("heures travaillées : nombre attendu")
            hours = None
        user = User.objects.titulaires().filter(nir=info.nir).first() if info else None
        if info and user is None:
            reasons.append("aucun compte pour ce NIR")
        if reasons:
            report.rejected.append((line, " ; ".join(reasons)))
            continue
        flag = (row.get("faible_qualification") or "").strip()
        low_qualification = flag in {"1", "oui", "true"} or (flag == "" and is_low_qualification(user))
        declaration = yearly_credit(account=account_for(user), year=year, status=status, hours_worked=hours, low_qualification=low_qualification)
        if declaration is None:
            report.already += 1
        else:
            report.credited += 1
            report.credited_cents += declaration.credited_cents
    return report
