"""Where the yearly credits come from: the employers' declarations (DSN), and in the demo a
simulated DSN.

In the real service nobody types their rights: each employer's monthly DSN gives the hours
worked, and the Caisse des dépôts credits every account in the first half of the following
year (500 € a year, 800 € without a level-3 qualification; ceilings 5 000 € / 8 000 €).
Here the real source is the yearly file of ``import_alimentations`` (``financing.yearly``).

With ``CPF_SIMULATED_DSN`` (on by default when DEBUG, i.e. ``make run``), a titulaire's
account is given, when it opens, the career a DSN would hold for his NIR: the same NIR always
gets the same career (seeded by a hash of the NIR), from 2019 (or from about 16 years old)
to last year, with full-time and part-time years (below half the legal time: a prorata), a
year without work now and then, salarié or indépendant, and about one person in eight
without a level-3 qualification. The years are written as ``YearlyDeclaration`` rows
(source « DSN simulée ») and credited through ``services.yearly_credit`` — the same rules and
ceilings as the import — each movement dated on the day the real credit would have been
posted, between February and June of the following year. Already declared years are
skipped: loading twice credits nothing twice.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import nir as nir_lib
from accounts.models import Role

from .models import CpfAccount, YearlyDeclaration
from .services import LEGAL_HOURS_PER_YEAR, account_for, yearly_credit

FIRST_YEAR = 2019  # the CPF in euros (before: hours, entered by conversion)
WORKING_AGE = 16
RETIREMENT_AGE = 64
LOW_QUALIFICATION_SHARE = 0.12
# The yearly credits are posted between these days of the following year.
CREDIT_WINDOW = ((2, 1), (6, 30))

_suppressed = contextvars.ContextVar("simulated_dsn_suppressed", default=False)


@dataclass(frozen=True)
class DeclaredYear:
    year: int
    status: str
    hours_worked: Decimal
    low_qualification: bool
    credited_on: datetime.date


def _rng(*parts) -> random.Random:
    """The same NIR, the same draws, in every process (unlike ``hash``) and every year: each
    year of a career has its own generator, so that last year's arrival changes no earlier one."""
    digest = hashlib.sha256(":".join(["cpf-dsn", *map(str, parts)]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def birth_year_of(nir: str, *, today: datetime.date) -> int:
    """The NIR holds the two last digits of the birth year: the latest such year not after today."""
    two_digits = int(nir_lib.compact(nir)[1:3])
    year = 2000 + two_digits
    return year if year <= today.year else 1900 + two_digits


def _credit_day(rng: random.Random, year: int) -> datetime.date:
    (first_month, first_day), (last_month, last_day) = CREDIT_WINDOW
    first = datetime.date(year + 1, first_month, first_day)
    last = datetime.date(year + 1, last_month, last_day)
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def _hours(share: float) -> Decimal:
    return (LEGAL_HOURS_PER_YEAR * Decimal(str(share))).quantize(Decimal("0.5"))


def simulated_career(nir: str, *, today: datetime.date, birth_year: int | None = None) -> list[DeclaredYear]:
    """The years a DSN would hold for ``nir`` that are credited by ``today`` (deterministic)."""
    nir = nir_lib.compact(nir)
    person = _rng(nir)
    born = birth_year or birth_year_of(nir, today=today)
    low_qualification = person.random() < LOW_QUALIFICATION_SHARE
    # Studies or an apprenticeship first: work starts between 16 and 23.
    started = born + WORKING_AGE + person.choice([0, 0, 1, 2, 3, 4, 5, 6, 7])
    profile = person.choices(["salarie", "independant", "devenu_independant"], weights=[80, 8, 12])[0]
    switch = max(FIRST_YEAR, started) + person.randint(1, 6)
    gap = max(FIRST_YEAR, started) + person.randint(0, 7) if person.random() < 0.35 else None
    years = []
    for year in range(max(FIRST_YEAR, started), min(today.year - 1, born + RETIREMENT_AGE) + 1):
        rng = _rng(nir, year)
        credited_on = _credit_day(rng, year)
        if year == gap or credited_on > today:
            continue
        independent = profile == "independant" or (profile == "devenu_independant" and year >= switch)
        status = YearlyDeclaration.Status.INDEPENDANT if independent else YearlyDeclaration.Status.SALARIE
        draw = rng.random()
        if draw < 0.65:
            hours = _hours(rng.uniform(0.97, 1.0)) if independent else LEGAL_HOURS_PER_YEAR
        elif draw < 0.82:
            hours = _hours(rng.uniform(0.55, 0.85))  # part time, half time or more: a salarié's full year
        else:
            hours = _hours(rng.uniform(0.15, 0.45))  # below half time: a prorata
        years.append(DeclaredYear(year, status, hours, low_qualification, credited_on))
    return years


def _posted_at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=timezone.get_default_timezone())


def credited_at(nir: str, year: int, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """When ``year``'s credit is posted for ``nir``: the simulated DSN's day for that person
    and year (between 1 February and 30 June of the following year), never after ``now``.
    The demo's written careers are dated by it too."""
    now = now or timezone.now()
    return min(_posted_at(_credit_day(_rng(nir_lib.compact(nir), year), year)), now)


@transaction.atomic
def credit_full_years(account: CpfAccount, years, *, now: datetime.datetime | None = None) -> None:
    """A written career (the demo's people): each year full time as a salarié, credited on the
    DSN's day for that person and year (idempotent per year, as the import)."""
    for year in years:
        yearly_credit(
            account=account,
            year=year,
            status="salarie",
            hours_worked=LEGAL_HOURS_PER_YEAR,
            low_qualification=False,
            credited_at=credited_at(account.user.nir, year, now=now),
        )


def load_simulated(account: CpfAccount, *, today: datetime.date | None = None) -> list[YearlyDeclaration]:
    """Credit ``account`` with its simulated DSN; the years already declared are skipped."""
    user = account.user
    if not user.nir:
        return []
    today = today or timezone.localdate()
    birth_year = user.birth_date.year if user.birth_date else None
    made = []
    for declared in simulated_career(user.nir, today=today, birth_year=birth_year):
        declaration = yearly_credit(
            account=account,
            year=declared.year,
            status=declared.status,
            hours_worked=declared.hours_worked,
            low_qualification=declared.low_qualification,
            source=YearlyDeclaration.Source.SIMULATED,
            credited_at=_posted_at(declared.credited_on),
        )
        if declaration is not None:
            made.append(declaration)
    return made


@contextlib.contextmanager
def scripted():
    """Accounts opened inside get no simulated DSN (the demo's people with a written career)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def is_on() -> bool:
    return settings.CPF_SIMULATED_DSN and not _suppressed.get()


# --- When: the account opens (financing.apps connects these) ---------------------------------


def on_account_opened(sender, instance: CpfAccount, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and is_on() and instance.user.role == Role.TITULAIRE:
        load_simulated(instance)


def on_user_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    """An activated titulaire (activation code, FranceConnect) has his account opened at once,
    so his rights are there on every page from the first one."""
    if raw or not is_on() or instance.role != Role.TITULAIRE or instance.activated_at is None:
        return
    if created or (update_fields is not None and "activated_at" in update_fields):
        account_for(instance)
