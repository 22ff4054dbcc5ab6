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

from .models import Certification, Commune, Formation, Organisme, Session
from .seed_data import DOMAINS, ORGANISME_PREFIXES, ORGANISME_SUFFIXES, STREETS, VARIANTS
from .services import search_terms_refresh


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
    "commune_insee": "57463",  # Metz (57070)
}


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
            "prerequis": "Aucun.",
            "duree_heures": SEED_EXAMPLE["duree_heures"],
            "modalite": Formation.Modalite.PRESENTIEL,
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
        start = today + datetime.timedelta(days=30)
        for offset in (0, 63):
            Session.objects.create(
                formation=formation,
                start_date=start + datetime.timedelta(days=offset),
                end_date=start + datetime.timedelta(days=offset + 4),
                address=SEED_EXAMPLE["address"],
                commune=metz,
                price_cents=SEED_EXAMPLE["price_cents"],
                places=12,
            )
    return formation


@dataclass
class SeedReport:
    organismes: int
    certifications: int
    formations: int
    sessions: int
    search_terms: int


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_catalogue(*, formations: int, sessions_per_formation: int = 3, remote_share: float = 0.15, seed: int = 2020) -> SeedReport:
    """Add ``formations`` generated formations (and their sessions) to the catalogue."""
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()
    communes = list(Commune.objects.filter(population__gte=3000).values_list("id", "population", "name", "postal_codes"))
    if not communes:
        raise RuntimeError("Chargez d'abord les communes : python manage.py load_communes")
    weights = [population**0.8 for _, population, _, _ in communes]

    with transaction.atomic():
        certifications = {}
        for domain in DOMAINS:
            for _, (ctype, code, libelle, certificateur, niveau), _, _ in domain["trainings"]:
                certification, _ = Certification.objects.get_or_create(
                    type=ctype, code=code, defaults={"libelle": libelle, "certificateur": certificateur, "niveau": niveau}
                )
                certifications[(ctype, code)] = certification.pk

        organisme_count = max(3, formations // 40)
        start_number = Organisme.objects.count() + 1000
        organismes = Organisme.objects.bulk_create(
            [
                Organisme(
                    raison_sociale=f"{rng.choice(ORGANISME_PREFIXES)} {rng.choice(ORGANISME_SUFFIXES)} {home[2]}",
                    siret=fictional_siret(start_number + index),
                    address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    postal_code=(home[3] or ["00000"])[0],
                    city=home[2],
                    phone=f"0{rng.randint(1, 5)}{rng.randint(10000000, 99999999)}",
                    email=f"contact@of{start_number + index}.example",
                )
                for index, home in enumerate(rng.choices(communes, weights=weights, k=organisme_count))
            ]
        )

        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # psycopg cursor, for COPY
            cursor.execute("SELECT nextval('catalogue_formation_id_seq') FROM generate_series(1, %s)", [formations])
            formation_ids = [row[0] for row in cursor.fetchall()]

            formation_rows, session_rows = [], []
            for index, formation_id in enumerate(formation_ids):
                domain = rng.choice(DOMAINS)
                title, cert_key, (hours_min, hours_max), (price_min, price_max) = rng.choice(domain["trainings"])
                organisme = organismes[index % organisme_count]
                remote = rng.random() < remote_share
                modalite = "distance" if remote else rng.choices(["presentiel", "mixte"], weights=[4, 1])[0]
                hours = rng.randint(hours_min, hours_max)
                intitule = title + rng.choice(VARIANTS) + (" - à distance" if remote else "")
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
                        rng.choice(["Aucun.", "Savoir lire et écrire le français.", "Niveau de fin de collège.", "Entretien de positionnement."]),
                        hours,
                        modalite,
                        f"{domain['domaine']} (Formacode {domain['formacode']})",
                        True,
                        now,
                        now,
                    )
                )
                for _ in range(sessions_per_formation):
                    price = rng.randint(price_min // 10, price_max // 10) * 1000
                    permanent = rng.random() < 0.2
                    start = None if permanent else today + datetime.timedelta(days=rng.randint(12, 330))
                    end = None if permanent else start + datetime.timedelta(days=max(1, hours // 7 + rng.randint(0, 30)))
                    if remote:
                        commune_id, address = None, ""
                    else:
                        commune_id = rng.choices(communes, weights=weights)[0][0]
                        address = f"{rng.randint(1, 150)} {rng.choice(STREETS)}"
                    session_rows.append(
                        (uuid.uuid4(), formation_id, start, end, permanent, address, commune_id, price, rng.randint(6, 20), True, now)
                    )
            # Sessions first (their foreign key to the formation is checked at commit), with
            # the per-session summary trigger off; then the formations, whose index rows are
            # written once, with their sessions summary. No row is rewritten, nothing bloats.
            # (ALTER TABLE needs the deferred checks of this transaction done first.)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE catalogue_session DISABLE TRIGGER catalogue_session_summary")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            _copy(
                cursor,
                "catalogue_session",
                [
                    "public_id",
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
                    "prerequis",
                    "duree_heures",
                    "modalite",
                    "domaine",
                    "active",
                    "created_at",
                    "updated_at",
                ],
                formation_rows,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE catalogue_session ENABLE TRIGGER catalogue_session_summary")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again
        terms = search_terms_refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalogue_formation; ANALYZE catalogue_formationindex; ANALYZE catalogue_session; "
            "ANALYZE catalogue_commune; ANALYZE catalogue_searchterm"
        )
    return SeedReport(
        organismes=len(organismes),
        certifications=len(certifications),
        formations=len(formation_rows),
        sessions=len(session_rows),
        search_terms=terms,
    )
