"""Generate a realistic French catalogue fast (PostgreSQL COPY), and the seed's example.

100,000 formations and 300,000 sessions are written with three COPY statements; the
search vectors are filled by the database trigger as rows arrive.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import ACTION_CONTACT_FIELDS, ACTION_TEACHING_FIELDS, Action, Certification, Commune, Formation, Modalite, Organisme, Rythme, Session
from .seed_data import COMMON_DOMAINS, DOMAIN_WEIGHTS, DOMAINS, ORGANISME_NAMES, STREETS, SURNAMES, VARIANTS
from .services import rankings_refresh, search_terms_refresh


def luhn_complete(body: str) -> str:
    """Append the digit that makes ``body`` pass the Luhn check (SIREN and SIRET keys)."""
    for digit in "0123456789":
        candidate = body + digit
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def fictional_siret(number: int) -> str:
    """A valid SIRET (SIREN and SIRET keys) in a range no real company uses in the demo."""
    siren = luhn_complete(f"8{number:07d}")
    return luhn_complete(f"{siren}0001")


SEED_EXAMPLE = {
    "intitule": "Anglais - Test Bright Language - évaluation d'Anglais professionnel",
    "duree_heures": 10,
    "price_cents": 87000,
    "address": "18 Rue des Feivres",
    "postal_code": "57070",
    "commune_insee": "57463",  # Metz
}


def _at_cp_formation(formation: Formation) -> None:
    """CP-FORMATION's place in Metz is 57070 on every page (also in a database seeded before
    actions had their own postal code)."""
    formation.actions.filter(address=SEED_EXAMPLE["address"], commune__code_insee=SEED_EXAMPLE["commune_insee"], postal_code="").update(
        postal_code=SEED_EXAMPLE["postal_code"]
    )


@transaction.atomic
def ensure_seed_example(organisme: Organisme, *, today: datetime.date) -> Formation:
    """The training of the seed documents: CP-FORMATION, Metz, 10 h, 870,00 €."""
    certification, _ = Certification.objects.get_or_create(
        type=Certification.Type.RS,
        code="6225",
        defaults={"libelle": "Bright Language - évaluation des compétences en langues", "certificateur": "Bright Language"},
    )
    formation, created = Formation.objects.get_or_create(
        numero=f"{organisme.siret}_BRIGHT-ANGLAIS",
        defaults={
            "intitule": SEED_EXAMPLE["intitule"],
            "organisme": organisme,
            "certification": certification,
            "description": "Évaluez et certifiez votre niveau d'anglais professionnel avec le test Bright Language, "
            "reconnu par les entreprises, après une préparation ciblée.",
            "objectifs": "Mesurer son niveau d'anglais professionnel (compréhension et expression) et obtenir "
            "une certification reconnue, positionnée sur le Cadre européen commun de référence.",
            "contenu": "Test de positionnement, entraînement à la compréhension orale et écrite, vocabulaire "
            "professionnel, passage du test Bright Language en centre.",
            "resultats_attendus": "Certification Bright Language indiquant le niveau atteint (A1 à C2).",
            "domaine": "Langues vivantes - anglais",
        },
    )
    if created or not formation.sessions.exists():
        metz = Commune.objects.filter(code_insee=SEED_EXAMPLE["commune_insee"]).first()
        if metz is None:
            metz = Commune.objects.create(
                code_insee="57463",
                name="Metz",
                search_name="metz",
                postal_codes=["57000", "57050", "57070"],
                postal_codes_text=" 57000 57050 57070",
                departement="57",
                latitude=49.108118,
                longitude=6.195983,
                population=116429,
            )
        action = Action.objects.create(
            formation=formation,
            modalite=Modalite.PRESENTIEL,
            rythmes=[Rythme.JOURNEE],
            modalites_pedagogiques="Cours en petit groupe, entraînement sur ordinateur, passage du test en centre.",
            duree_heures=SEED_EXAMPLE["duree_heures"],
            price_cents=SEED_EXAMPLE["price_cents"],
            address=SEED_EXAMPLE["address"],
            postal_code=SEED_EXAMPLE["postal_code"],
            commune=metz,
        )
        start = today + datetime.timedelta(days=30)
        for offset in (0, 63):
            Session(start_date=start + datetime.timedelta(days=offset), end_date=start + datetime.timedelta(days=offset + 4), places=12).follow(
                action
            ).save()
    _at_cp_formation(formation)
    formation.refresh_from_db()  # its summaries of its actions (trigger)
    return formation


# The demo organisme's formation taught every way: each modality and each rythm.
DEMO_ACTIONS = [
    ("METZ-JOUR", Modalite.PRESENTIEL, ["journee"], 35, None, 120_000, "57463", "Cours en groupe de 10 sur ordinateur, une journée par semaine."),
    ("METZ-SOIR", Modalite.PRESENTIEL, ["soiree"], 35, 6, 120_000, "57463", "Deux soirées par semaine de 18 h à 21 h, en groupe de 8."),
    ("NANCY-WE", Modalite.MIXTE, ["weekend"], 42, 7, 135_000, "54395", "Samedis en centre et exercices en ligne entre deux séances."),
    (
        "DISTANCE",
        Modalite.DISTANCE,
        ["temps_partiel"],
        30,
        5,
        89_000,
        None,
        "Plateforme en ligne, classes virtuelles et tuteur joignable chaque semaine.",
    ),
]


def ensure_demo_actions(organisme: Organisme, *, today: datetime.date) -> Formation:
    """A formation of ``organisme`` with one action per modality and rythm (idempotent)."""
    certification, _ = Certification.objects.get_or_create(
        type=Certification.Type.RS, code="6205", defaults={"libelle": "Tosa Excel", "certificateur": "Isograd"}
    )
    formation, _ = Formation.objects.get_or_create(
        numero=f"{organisme.siret}_EXCEL-TOSA",
        defaults={
            "intitule": "Excel - préparation à la certification Tosa",
            "organisme": organisme,
            "certification": certification,
            "objectifs": "Construire des tableaux, des formules et des tableaux croisés dynamiques ; obtenir le score Tosa visé.",
            "contenu": "Formules, mises en forme conditionnelles, graphiques, tableaux croisés dynamiques, passage du test Tosa.",
            "domaine": "Bureautique (Formacode 70332)",
        },
    )
    communes = {commune.code_insee: commune for commune in Commune.objects.filter(code_insee__in=["57463", "54395"])}
    for number, (reference, modalite, rythmes, hours, weekly, price, insee, pedagogy) in enumerate(DEMO_ACTIONS):
        commune = communes.get(insee)
        if insee and commune is None:
            continue  # the communes are not loaded: no place for this action
        action, created = Action.objects.get_or_create(
            formation=formation,
            reference=reference,
            defaults={
                "modalite": modalite,
                "rythmes": rythmes,
                "duree_heures": hours,
                "heures_hebdo": weekly,
                "price_cents": price,
                "commune": commune,
                "address": SEED_EXAMPLE["address"] if commune else "",
                "postal_code": SEED_EXAMPLE["postal_code"] if insee == SEED_EXAMPLE["commune_insee"] else "",
                "modalites_pedagogiques": pedagogy,
                "prerequis": "Savoir utiliser un ordinateur." if modalite == Modalite.DISTANCE else "",
            },
        )
        if created:
            start = today + datetime.timedelta(days=21 + 7 * number)
            Session(
                start_date=start, end_date=start + datetime.timedelta(days=28), places=10, registration_closes=start - datetime.timedelta(days=2)
            ).follow(action).save()
    _at_cp_formation(formation)
    formation.refresh_from_db()  # its summaries of its actions (trigger)
    return formation


# One training of each eligible action without a certification, near Metz (the rules of 2026:
# the bilan's cap shows at 2 000 €, the permis needs a co-financing for a salarié).
DEMO_TYPES = [
    ("PERMIS-B", "PERMIS", "PERMIS-B", "Permis de conduire catégorie B", "Permis B - formation accélérée à Metz", 35, 150_000),
    ("BILAN", "BILAN", "BILAN", "Bilan de compétences", "Bilan de compétences - faire le point sur son projet professionnel", 24, 200_000),
    ("VAE", "VAE", "VAE", "Accompagnement VAE", "Accompagnement à la validation des acquis de l'expérience (VAE)", 24, 180_000),
    (
        "CREATION",
        "CREATION",
        "CREA-ENT",
        "Actions de formation à la création ou reprise d'entreprise",
        "Créer ou reprendre son entreprise",
        42,
        120_000,
    ),
]


def ensure_demo_action_types(organisme: Organisme, *, today: datetime.date) -> list[Formation]:
    """A permis B, a bilan de compétences, a VAE and a création d'entreprise training of
    ``organisme`` in Metz (idempotent; none without the communes)."""
    metz = Commune.objects.filter(code_insee="57463").first()
    if metz is None:
        return []
    made = []
    for code, ctype, ccode, libelle, title, hours, price in DEMO_TYPES:
        certification, _ = Certification.objects.get_or_create(type=ctype, code=ccode, defaults={"libelle": libelle})
        formation, created = Formation.objects.get_or_create(
            numero=f"{organisme.siret}_{code}", defaults={"intitule": title, "organisme": organisme, "certification": certification}
        )
        if created:
            action = Action.objects.create(
                formation=formation,
                modalite=Modalite.PRESENTIEL,
                rythmes=[Rythme.JOURNEE],
                duree_heures=hours,
                price_cents=price,
                commune=metz,
                address=SEED_EXAMPLE["address"],
                postal_code=SEED_EXAMPLE["postal_code"],
            )
            start = today + datetime.timedelta(days=35)
            Session(start_date=start, end_date=start + datetime.timedelta(days=20), places=8).follow(action).save()
        _at_cp_formation(formation)
        made.append(formation)
    return made


SEED_RYTHMES = [["journee"], ["soiree"], ["weekend"], ["temps_partiel"], ["soiree", "weekend"]]
PEDAGOGIES = [
    "Cours en groupe de 8 à 12 personnes, exercices pratiques et mises en situation.",
    "Plateforme en ligne avec classes virtuelles et un tuteur joignable chaque semaine.",
    "Alternance d'apports théoriques et d'ateliers sur des cas réels de l'entreprise.",
]
ACTION_COPY_COLUMNS = [
    "id",
    "public_id",
    "formation_id",
    "reference",
    *ACTION_TEACHING_FIELDS,
    "price_cents",
    "tva",
    "address",
    "commune_id",
    *ACTION_CONTACT_FIELDS,
    "created_at",
    "updated_at",
]


@dataclass
class SeedReport:
    organismes: int
    certifications: int
    formations: int
    sessions: int
    search_terms: int
    rankings: int = 0


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


LARGE_CITY = 100_000


def _city(name: str) -> str:
    """The city of a postal address: « Paris » for « Paris 11e Arrondissement »."""
    return name.split(" ")[0] if " Arrondissement" in name else name


def _name(rng: random.Random, domain: dict, used: set[str]) -> str:
    """A name of the domain's trade not given yet: a brand more often than a founder's name
    (a homonym only once all are taken)."""
    patterns = ORGANISME_NAMES[domain["domaine"]]
    brands = [name for name in patterns if "{nom}" not in name and name not in used]
    founders = [pattern.format(nom=surname) for pattern in patterns if "{nom}" in pattern for surname in SURNAMES]
    free = [name for name in founders if name not in used]
    name = rng.choice(brands) if brands and (rng.random() < 0.6 or not free) else rng.choice(free or founders)
    used.add(name)
    return name


def _around(communes: list):
    """``around(home)``: the communes of at least 3 000 people within about 40 km of ``home``
    (a grid of half degrees: its own cell and the eight next to it)."""
    cells: dict[tuple[int, int], list] = {}
    for commune in communes:
        cells.setdefault((round(commune[4] * 2), round(commune[5] * 2)), []).append(commune)
    found: dict[int, list] = {}

    def around(home) -> list:
        if home[0] not in found:
            lat, lon = round(home[4] * 2), round(home[5] * 2)
            near = [c for dlat in (-1, 0, 1) for dlon in (-1, 0, 1) for c in cells.get((lat + dlat, lon + dlon), [])]
            found[home[0]] = [c for c in near if abs(c[4] - home[4]) <= 0.36 and abs(c[5] - home[5]) <= 0.5] or [home]
        return found[home[0]]

    return around


def _organismes(rng: random.Random, communes: list, weights: list, *, count: int) -> tuple[list[Organisme], list, list[dict]]:
    """``count`` organismes, each with its trade (a domain) and its home commune: first one
    organisme of each common trade in every large city (so that English, office software,
    driving and first aid are taught in person in each), then the others where people live."""
    by_name = {domain["domaine"]: domain for domain in DOMAINS}
    large = sorted((c for c in communes if c[1] >= LARGE_CITY and " Arrondissement" not in c[2]), key=lambda c: -c[1])
    placed = [(by_name[name], city) for city in large for name in COMMON_DOMAINS][:count]
    names, trade_weights = list(DOMAIN_WEIGHTS), list(DOMAIN_WEIGHTS.values())
    others = count - len(placed)
    placed += zip(
        (by_name[name] for name in rng.choices(names, weights=trade_weights, k=others)),
        rng.choices(communes, weights=weights, k=others),
        strict=True,
    )
    start_number = Organisme.objects.count() + 1000
    used = set(Organisme.objects.values_list("raison_sociale", flat=True))
    organismes = Organisme.objects.bulk_create(
        [
            Organisme(
                raison_sociale=_name(rng, domain, used),
                siret=fictional_siret(start_number + index),
                address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                postal_code=(home[3] or ["00000"])[0],
                city=_city(home[2]),
                phone=f"0{rng.randint(1, 5)}{rng.randint(10000000, 99999999)}",
                email=f"contact@of{start_number + index}.example",
            )
            for index, (domain, home) in enumerate(placed)
        ]
    )
    return organismes, [home for _domain, home in placed], [domain for domain, _home in placed]


def seed_catalogue(*, formations: int, sessions_per_formation: int = 3, remote_share: float = 0.15, seed: int = 2020) -> SeedReport:
    """Add ``formations`` generated formations (and their sessions) to the catalogue."""
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()
    communes = list(Commune.objects.filter(population__gte=3000).values_list("id", "population", "name", "postal_codes", "latitude", "longitude"))
    if not communes:
        raise RuntimeError("Chargez d'abord les communes : python manage.py load_communes")
    weights = [commune[1] ** 0.8 for commune in communes]
    around = _around(communes)

    with transaction.atomic():
        certifications = {}
        for domain in DOMAINS:
            for _, (ctype, code, libelle, certificateur, niveau), _, _ in domain["trainings"]:
                certification, _ = Certification.objects.get_or_create(
                    type=ctype, code=code, defaults={"libelle": libelle, "certificateur": certificateur, "niveau": niveau}
                )
                certifications[(ctype, code)] = certification.pk

        organismes, homes, domains = _organismes(rng, communes, weights, count=max(3, formations // 15))
        organisme_count = len(organismes)

        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # psycopg cursor, for COPY
            cursor.execute("SELECT nextval('catalogue_formation_id_seq') FROM generate_series(1, %s)", [formations])
            formation_ids = [row[0] for row in cursor.fetchall()]
            # At most one action per session: their ids drawn at once.
            cursor.execute("SELECT nextval('catalogue_action_id_seq') FROM generate_series(1, %s)", [formations * sessions_per_formation])
            action_ids = iter([row[0] for row in cursor.fetchall()])

            formation_rows, action_rows, session_rows = [], [], []
            for index, formation_id in enumerate(formation_ids):
                # Each organisme teaches its own trade, mostly at its own address.
                organisme = organismes[index % organisme_count]
                domain, home = domains[index % organisme_count], homes[index % organisme_count]
                title, cert_key, (hours_min, hours_max), (price_min, price_max) = rng.choice(domain["trainings"])
                remote = rng.random() < remote_share
                modalite = "distance" if remote else rng.choices(["presentiel", "mixte"], weights=[4, 1])[0]
                hours = rng.randint(hours_min, hours_max)
                intitule = title + rng.choice(VARIANTS) + (" - à distance" if remote else "")
                prerequis = rng.choice(["", "", "Savoir lire et écrire le français.", "Niveau de fin de collège.", "Entretien de positionnement."])
                # Sessions share an action (its place, price and rythm) half of the time.
                actions, rythmes = [], set()
                for number in range(sessions_per_formation):
                    if number == 0 or rng.random() < 0.5:
                        price = rng.randint(price_min // 10, price_max // 10) * 1000
                        if remote:
                            commune_id, address = None, ""
                        elif rng.random() < 0.8:
                            commune_id, address = home[0], organisme.address
                        else:  # another of its sites, in a town around its home
                            commune_id = rng.choice(around(home))[0]
                            address = f"{rng.randint(1, 150)} {rng.choice(STREETS)}"
                        rythme = rng.choices(SEED_RYTHMES, weights=[6, 2, 1, 1, 1])[0]
                        rythmes.update(rythme)
                        action = (next(action_ids), uuid.uuid4(), formation_id, "", modalite, rythme, rng.choice(PEDAGOGIES), prerequis, hours,
                                  None, price, 0, address, commune_id, "", "", "", now, now)  # fmt: skip
                        action_rows.append(action)
                        actions.append(action)
                    action = actions[-1]
                    permanent = rng.random() < 0.2
                    start = None if permanent else today + datetime.timedelta(days=rng.randint(12, 330))
                    end = None if permanent else start + datetime.timedelta(days=max(1, hours // 7 + rng.randint(0, 30)))
                    session_rows.append(
                        (
                            uuid.uuid4(),
                            action[0],
                            formation_id,
                            start,
                            end,
                            permanent,
                            action[12],
                            action[13],
                            action[10],
                            rng.randint(6, 20),
                            True,
                            now,
                        )
                    )
                formation_rows.append(
                    (
                        formation_id,
                        uuid.uuid4(),
                        f"{organisme.siret}_{formation_id:07d}",
                        intitule,
                        organisme.pk,
                        certifications[(cert_key[0], cert_key[1])],
                        f"{organisme.raison_sociale} vous propose « {intitule} », une formation de {hours} heures "
                        f"éligible au compte personnel de formation.",
                        rng.choice(domain["objectifs"]),
                        rng.choice(domain["contenu"]),
                        f"Certification visée : {cert_key[2]}.",
                        hours,
                        modalite,
                        [modalite],
                        sorted(rythmes),
                        f"{domain['domaine']} (Formacode {domain['formacode']})",
                        True,
                        now,
                        now,
                    )
                )
            # Sessions and actions first (their foreign keys are checked at commit), with the
            # per-row triggers off (the rows carry their copies and summaries already); then
            # the formations, whose index rows are written once, with their sessions summary.
            # No row is rewritten, nothing bloats. (ALTER TABLE needs the deferred checks of
            # this transaction done first.)
            triggers = [("catalogue_session", "catalogue_session_summary"), ("catalogue_session", "catalogue_session_action"), ("catalogue_action", "catalogue_action_changed")]  # fmt: skip
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            _copy(cursor, "catalogue_action", ACTION_COPY_COLUMNS, action_rows)
            _copy(
                cursor,
                "catalogue_session",
                [
                    "public_id",
                    "action_id",
                    "formation_id",
                    "start_date",
                    "end_date",
                    "permanent_entry",
                    "address",
                    "commune_id",
                    "price_cents",
                    "places",
                    "active",
                    "created_at",
                ],
                session_rows,
            )
            _copy(
                cursor,
                "catalogue_formation",
                [
                    "id",
                    "public_id",
                    "numero",
                    "intitule",
                    "organisme_id",
                    "certification_id",
                    "description",
                    "objectifs",
                    "contenu",
                    "resultats_attendus",
                    "duree_heures",
                    "modalite",
                    "modalites",
                    "rythmes",
                    "domaine",
                    "active",
                    "created_at",
                    "updated_at",
                ],
                formation_rows,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again
        terms = search_terms_refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalogue_formation; ANALYZE catalogue_formationindex; ANALYZE catalogue_action; ANALYZE catalogue_session; "
            "ANALYZE catalogue_commune; ANALYZE catalogue_searchterm"
        )
    rankings = rankings_refresh()  # once the catalogue is committed: the rankings' snapshots see it
    return SeedReport(
        organismes=len(organismes),
        certifications=len(certifications),
        formations=len(formation_rows),
        sessions=len(session_rows),
        search_terms=terms,
        rankings=rankings,
    )
