"""Where the places of the route map are: the gazetteer shipped in ``web/data/places.csv`` (and an agency's own,
``AVELLINO_PLACES``), so the map needs no geocoding service and no tiles from the internet."""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
PLACES_ENV = "AVELLINO_PLACES"


@lru_cache(maxsize=1)
def places() -> dict[str, dict[str, object]]:
    """Place name -> {country, lat, lon}; an agency's file (``AVELLINO_PLACES``) adds to and overrides ours."""
    out: dict[str, dict[str, object]] = {}
    files = [DATA / "places.csv"] + ([Path(os.environ[PLACES_ENV])] if os.environ.get(PLACES_ENV) else [])
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["place"].strip()] = {
                    "country": row["country"].strip(),
                    "lat": float(row["lat"]),
                    "lon": float(row["lon"]),
                }
    return out


def land_geojson() -> Path:
    """The offline basemap: Natural Earth land polygons (see ``data/README.md``)."""
    return DATA / "land.geojson"
