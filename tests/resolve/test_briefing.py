import pandas as pd

from avellino.resolve.briefing import truth_scores


def test_truth_scores_pairwise() -> None:
    clusters = pd.DataFrame({"entity_id": ["a", "b", "c", "d"], "cluster_id": ["1", "1", "1", "2"]})
    truth = pd.DataFrame({"entity_id": ["a", "b", "c", "d"], "person_id": ["p", "p", "q", "q"]})
    s = truth_scores(clusters, truth)
    # predicted pairs ab, ac, bc; true pairs ab, cd -> 1 hit
    assert s["precision"] == 1 / 3 and s["recall"] == 1 / 2
