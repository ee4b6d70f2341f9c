"""The buyer ranking's weighting: a sign every buyer shows says nothing, a rare one says much."""

from __future__ import annotations

from avellino.trace.buyers import WEIGHTS, information


def _f(**on: int) -> dict[str, int]:
    return {k: on.get(k, 0) for k in WEIGHTS}


def test_a_sign_every_buyer_shows_weighs_less_than_a_rare_one() -> None:
    buyers = [_f(before_crossing=1, linked=int(i == 0)) for i in range(10)]
    info = information(buyers)
    assert info["before_crossing"] < 0.3 < info["linked"]
    assert info["hawala"] > info["linked"]  # nobody shows it: its weight is the largest, and harmless
    # one buyer alone: every sign keeps a finite, positive weight
    alone = information([_f(linked=1)])
    assert 0 < alone["linked"] < alone["cash"] < float("inf")
