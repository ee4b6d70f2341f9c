import igraph as ig
import pytest

from avellino.network.keyplayer.disrupt import plan_disruption
from avellino.network.protect import MIGRANT_PILOT, ProtectedTargetError, Protection


def _star_of_stars() -> ig.Graph:
    """A hub 'victim' joins six small stars: without protection it is the obvious first target."""
    edges = []
    for s in range(6):
        centre = 1 + s * 4
        edges.append((0, centre))
        edges += [(centre, centre + j) for j in range(1, 4)]
    g = ig.Graph(n=25, edges=edges)
    g.vs["name"] = ["victim"] + [f"p{i}" for i in range(1, 25)]
    return g


def test_hub_is_the_top_target_without_protection():
    plan = plan_disruption(_star_of_stars(), 2, effort_seconds=1)
    for name in ("avellino", "degree", "betweenness"):
        assert plan.methods[name][0].removed == ["victim"], name


def test_protected_person_is_never_in_any_target_list():
    plan = plan_disruption(_star_of_stars(), 5, Protection.of(["victim"], "victim"), effort_seconds=1)
    for name, steps in plan.methods.items():
        for step in steps:
            assert "victim" not in step.removed, (name, step.k)
    assert plan.flagged == [{"id": "victim", "reason": "victim"}]


class CountingProtection(Protection):
    calls: list[list[str]]

    def release(self, targets: list[str]) -> list[str]:
        object.__getattribute__(self, "calls").append(list(targets))
        return super().release(targets)


def test_every_target_list_goes_through_release():
    guard = CountingProtection.of(["victim"])
    object.__setattr__(guard, "calls", [])
    plan = plan_disruption(_star_of_stars(), 4, guard, effort_seconds=1)
    released = [s.removed for steps in plan.methods.values() for s in steps]
    assert sorted(map(tuple, guard.calls)) == sorted(map(tuple, released))


def test_release_refuses_a_leaked_list():
    with pytest.raises(ProtectedTargetError, match="victim"):
        Protection.of(["victim"]).release(["p1", "victim"])


def test_migrant_boat_pilots_are_flagged_not_targeted():
    protection = Protection.from_people({"p1": "suspect", "p5": "witness"}, migrant_pilots=["p9"])
    assert "p1" not in protection and "p5" in protection
    assert protection.reasons["p9"] == MIGRANT_PILOT
    plan = plan_disruption(_star_of_stars(), 3, protection, effort_seconds=1)
    assert {f["id"] for f in plan.flagged} == {"p5", "p9"}
    assert not any({"p5", "p9"} & set(s.removed) for steps in plan.methods.values() for s in steps)
