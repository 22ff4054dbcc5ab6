"""« Mes interlocuteurs »: the directory of structures that advise titulaires, searched by
commune (nearest first, great-circle distance computed in SQL) or by département."""

from __future__ import annotations

from django.db.models import FloatField, QuerySet, Value

from accounts.models import Structure
from catalogue.models import Commune
from cpf_portal.geo import bounding_box, distance_km

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
