"""Load Avellino's schema YAML into FollowTheMoney's own model singleton.

We extend FtM's singleton in place rather than building a parallel model: FtM's statements, proxies and
serialisers all look schemata up through ``Model.instance()``, so a second model would make our entities
unreadable to them. Loading is idempotent and happens once, on first import of :mod:`avellino.model`.

FtM (4.x) has no public way to add schemata to a model once built: its only supported route is
``FTM_MODEL_PATH``, a folder that replaces the whole model and must be set before ``followthemoney`` is first
imported, which a library cannot guarantee. So :func:`_load_file` is the one place that calls FtM's private
``Model._load`` (the per-file step of FtM's own constructor), after checking it still has the shape we rely on;
``tests/model/test_schemata_loader.py`` fails loudly when a FtM release changes it.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from followthemoney.model import Model

SCHEMA_DIR = Path(__file__).parent / "schemata"
EXTENSION_SCHEMATA = ("Crossing", "Advert", "Purchase", "Leg", "Seizure", "Referral")


class FtMChanged(RuntimeError):
    """The installed FollowTheMoney no longer has the private hooks the schema extension uses."""


def _check_hooks() -> None:
    """FtM's private ``Model._load(filepath)`` and public ``Model.generate()``, as in followthemoney 4.x."""
    load = getattr(Model, "_load", None)
    if load is None or list(inspect.signature(load).parameters) != ["self", "filepath"]:
        raise FtMChanged(
            "followthemoney.model.Model._load(self, filepath) is gone or changed in this FollowTheMoney release; "
            "Avellino's smuggling schemata (avellino/model/schemata_loader.py) need updating for it."
        )
    if not callable(getattr(Model, "generate", None)):
        raise FtMChanged("followthemoney.model.Model.generate() is gone in this FollowTheMoney release.")


def _load_file(target: Model, path: Path) -> None:
    """The one call of FtM's private API: add the schemata of one YAML file to ``target``."""
    target._load(str(path))


def _extend(target: Model) -> Model:
    if all(target.get(name) is not None for name in EXTENSION_SCHEMATA):
        return target
    _check_hooks()
    for path in sorted(SCHEMA_DIR.glob("*.yaml")):
        _load_file(target, path)
    target.generate()  # FtM's public step after loading: resolves parents, ranges and inherited properties
    missing = [name for name in EXTENSION_SCHEMATA if target.get(name) is None]
    if missing:
        raise FtMChanged(f"FollowTheMoney did not take Avellino's schemata {missing} from {SCHEMA_DIR}.")
    return target


model: Model = _extend(Model.instance())
