"""Load Avellino's schema YAML into FollowTheMoney's own model singleton.

We extend FtM's singleton in place rather than building a parallel model: FtM's statements, proxies and
serialisers all look schemata up through ``Model.instance()``, so a second model would make our entities
unreadable to them. Loading is idempotent and happens once, on first import of :mod:`avellino.model`.
"""

from __future__ import annotations

from pathlib import Path

from followthemoney import model as _ftm_model
from followthemoney.model import Model

SCHEMA_DIR = Path(__file__).parent / "schemata"
EXTENSION_SCHEMATA = ("Crossing", "Advert", "Purchase", "Leg", "Seizure", "Referral")


def _extend(target: Model) -> Model:
    if all(target.get(name) is not None for name in EXTENSION_SCHEMATA):
        return target
    for path in sorted(SCHEMA_DIR.glob("*.yaml")):
        target._load(str(path))
    target.generate()
    return target


model: Model = _extend(_ftm_model)
