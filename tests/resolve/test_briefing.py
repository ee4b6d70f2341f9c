import pandas as pd
import pytest

from avellino.resolve.summary import truth_scores


def test_truth_scores_pairwise() -> None:
    clusters = pd.DataFrame({"entity_id": ["a", "b", "c", "d"], "cluster_id": ["1", "1", "1", "2"]})
    truth = pd.DataFrame({"entity_id": ["a", "b", "c", "d"], "person_id": ["p", "p", "q", "q"]})
    s = truth_scores(clusters, truth)
    # predicted pairs ab, ac, bc; true pairs ab, cd -> 1 hit
    assert s["precision"] == pytest.approx(1 / 3, abs=1e-5) and s["recall"] == 1 / 2


def test_merged_examples_name_the_pair_to_explain_and_flag_protected_people() -> None:
    from avellino.resolve.listing import merged_examples

    clusters = pd.DataFrame(
        {
            "entity_id": ["uk-nca-1", "fr-ocriest-2", "de-bpol-3", "uk-nca-4", "fr-ocriest-5", "uk-nca-6"],
            "cluster_id": ["cl-a", "cl-a", "cl-a", "cl-b", "cl-b", "cl-c"],
        }
    )
    rows = merged_examples(clusters, protected={"fr-ocriest-5"})
    assert [r[0] for r in rows] == ["cl-a", "cl-b"]  # three partners first; the single record is no example
    assert rows[0][1:4] == [3, 3, "de-bpol-3 fr-ocriest-2"]
    assert rows[0][4] == "" and rows[1][4] == "safeguarding"


def test_merged_examples_count_partners_by_namespace() -> None:
    # FtM files keep their own ids after the namespace: "uk--nca-p1" is agency UK's, not "uk--nca"'s
    from avellino.resolve.listing import merged_examples

    clusters = pd.DataFrame(
        {"entity_id": ["uk--nca-p1", "uk--ncb-p2", "uk-nca--p3"], "cluster_id": ["cl-a", "cl-a", "cl-a"]}
    )
    assert merged_examples(clusters, protected=set())[0][1] == 2  # agencies UK and UK-NCA
