"""Distances on the Earth, once: a bounding box to use an index, then the great-circle
(haversine) distance, in SQL text (raw search queries) or as an ORM expression."""

from __future__ import annotations

import math

from django.db.models import F, FloatField, Value
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

EARTH_RADIUS_KM = 6371.0


def bounding_box(latitude: float, longitude: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of a box holding every point within ``radius_km``."""
    dlat = radius_km / 111.0
    dlon = radius_km / (111.32 * max(math.cos(math.radians(latitude)), 0.01))
    return longitude - dlon, latitude - dlat, longitude + dlon, latitude + dlat


def haversine_sql(alias: str) -> str:
    """SQL of the great-circle distance (km) from ``%(lat)s``/``%(lon)s`` to ``alias``'s
    ``latitude``/``longitude`` columns."""
    return (
        f"2 * {EARTH_RADIUS_KM} * asin(sqrt(power(sin(radians({alias}.latitude - %(lat)s) / 2), 2)"
        f" + cos(radians(%(lat)s)) * cos(radians({alias}.latitude)) * power(sin(radians({alias}.longitude - %(lon)s) / 2), 2)))"
    )


def distance_km(latitude: float, longitude: float, *, lat_field: str, lon_field: str):
    """ORM expression of the great-circle distance (km) from a point to two fields."""
    lat, lon = math.radians(latitude), math.radians(longitude)
    dlat = (Radians(F(lat_field)) - Value(lat)) / 2
    dlon = (Radians(F(lon_field)) - Value(lon)) / 2
    inner = Power(Sin(dlat), 2) + Value(math.cos(lat)) * Cos(Radians(F(lat_field))) * Power(Sin(dlon), 2)
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(inner), output_field=FloatField())
