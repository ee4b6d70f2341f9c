"""The prior (share of all pairs that match) estimated from the data, on all records or on a record sample."""

from __future__ import annotations

import pandas as pd

from avellino.resolve import model
from avellino.resolve.features import build_features

ROLES = {"full_name": "full_name", "dob": "dob", "nationality": "nationality", "phone": "phone", "country": "country"}


def _prior(features: pd.DataFrame) -> float:
    trained = model.train(features, explainable=False)
    return float(trained.linker.misc.save_model_to_json()["probability_two_random_records_match"])


def test_prior_on_a_record_sample_estimates_the_same_share(fixtures, monkeypatch):
    people = pd.read_csv(fixtures / "resolve" / "people.csv", dtype=str)
    features = build_features(people, ROLES, "record_id")
    persons = people.groupby("person").size()
    truth = float((persons * (persons - 1) / 2).sum()) / (len(people) * (len(people) - 1) / 2)
    full = _prior(features)
    monkeypatch.setattr(model, "PRIOR_SAMPLE_RECORDS", 300)  # half the records: a quarter of the pairs
    sampled = _prior(features)
    assert sampled != full  # the sample was used
    assert 0.8 < sampled / full < 1.25 and 0.67 < full / truth < 1.5  # measured: 0.00351, 0.00339, truth 0.00351
