"""The model: FollowTheMoney schemata extended for smuggling, and the markings every statement carries."""

from avellino.model.schemata_loader import model

__all__ = ["model"]
