"""Over-merge protection and reviewer overrides, on hand-made clusters (no warehouse)."""

from __future__ import annotations

from datetime import date

from ml.identity import guards


def _clusters() -> dict[int, guards.Cluster]:
    return {
        1: guards.Cluster(3, {date(1980, 1, 2)}, {"ann@x.com"}),
        2: guards.Cluster(2),
        3: guards.Cluster(2, {date(1991, 5, 6)}),
        4: guards.Cluster(1, set(), {"other@y.com"}),
        5: guards.Cluster(1),
        6: guards.Cluster(1),
    }


def _decide(rows, **kwargs):
    options = {"accept_threshold": 0.9, "max_cluster_records": 6, **kwargs}
    return {pair: (status, reason) for pair, status, reason in guards.decide(rows, _clusters(), **options)}


def test_thresholds_conflicts_and_sizes():
    out = _decide(
        [
            ("ok", 0.99, 1, 2, None),  # 3 + 2 records, no conflict
            ("dob", 0.995, 1, 3, None),  # different dates of birth
            ("email", 0.98, 1, 4, None),  # different verified emails
            ("size", 0.97, 2, 5, None),  # 1+2 joined by "ok" has 5, +1 = 6 fine; see below
            ("review", 0.6, 5, 6, None),
            ("same", 0.99, 2, 2, None),
        ]
    )
    assert out["ok"][0] == guards.ACCEPTED
    assert out["dob"] == (guards.BLOCKED_CONFLICT, "different dates of birth")
    assert out["email"] == (guards.BLOCKED_CONFLICT, "different verified emails")
    assert out["size"][0] == guards.ACCEPTED  # 3 + 2 + 1 = 6 records: at the limit
    assert out["review"][0] == guards.REVIEW
    assert out["same"][0] == guards.SAME_CLUSTER


def test_cluster_size_limit_counts_what_earlier_matches_joined():
    out = _decide([("a", 0.99, 1, 2, None), ("b", 0.98, 2, 3, None)], max_cluster_records=6)
    assert out["a"][0] == guards.ACCEPTED
    assert out["b"][0] == guards.BLOCKED_SIZE  # 5 records already + 2 > 6
    assert "7 records" in out["b"][1]


def test_strongest_match_first_and_redundant_edges_are_not_merges():
    out = _decide([("weak", 0.91, 5, 6, None), ("strong", 0.99, 5, 2, None), ("third", 0.95, 6, 2, None)])
    assert out["strong"][0] == guards.ACCEPTED
    assert out["third"][0] == guards.ACCEPTED
    assert out["weak"][0] == guards.REDUNDANT


def test_a_reviewer_overrides_model_and_guards():
    out = _decide(
        [
            ("confirmed", 0.55, 1, 3, "confirm"),  # below threshold and conflicting dob
            ("rejected", 0.999, 5, 6, "reject"),
        ]
    )
    assert out["confirmed"][0] == guards.CONFIRMED
    assert out["rejected"][0] == guards.REJECTED_BY_REVIEWER
