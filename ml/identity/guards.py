"""Over-merge protection for probabilistic matches, decided before they reach the graph.

The deterministic clusters are computed here from the deterministic edges alone (connected
components with scipy), so the decision never reads the clustered graph that the accepted
matches feed (that would be a cycle). Matches are then taken greedily, strongest first,
union-find style over those clusters: a match is accepted unless the cluster it would
create holds more than ``max_cluster_records`` person records, or the two sides carry
conflicting strong identifiers (both know a date of birth and share none; both have a
verified email and share none). Those are reported, never merged automatically.
A reviewer's decision overrides the model and the guards for that pair.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import duckdb
import numpy as np

ACCEPTED = "accepted"
CONFIRMED = "confirmed"
REVIEW = "review"
REJECTED_BY_REVIEWER = "rejected_by_reviewer"
BLOCKED_SIZE = "blocked_cluster_size"
BLOCKED_CONFLICT = "blocked_conflict"
SAME_CLUSTER = "same_cluster"
REDUNDANT = "redundant"
MERGING_STATUSES = (ACCEPTED, CONFIRMED)


@dataclass
class Cluster:
    records: int
    dobs: set = field(default_factory=set)
    emails: set = field(default_factory=set)


def deterministic_clusters(con: duckdb.DuckDBPyConnection, edges_sql: str | None, records_table: str) -> str:
    """Label every person record of ``records_table`` with its deterministic cluster.

    ``edges_sql`` selects (a, b) pairs of tenant-qualified node ids; None means there is
    no graph yet (every record is its own cluster). Returns a temp table
    (unique_id, cluster_key, cluster_size). The key is the cluster's smallest unique_id,
    not a component label: a cluster that did not change keeps its key from run to run,
    which is how an incremental run finds the clusters it must profile again.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if edges_sql is None:
        con.execute(
            f"create or replace temp table identity_det_clusters as "
            f"select unique_id, unique_id as cluster_key, 1 as cluster_size from {records_table}"
        )
        return "identity_det_clusters"
    con.execute(f"create or replace temp table identity_det_edges as {edges_sql}")
    con.execute(
        f"""create or replace temp table identity_det_nodes as
        select n, (row_number() over ()) - 1 as id from (
            select a as n from identity_det_edges union select b from identity_det_edges
            union select unique_id from {records_table}
        )"""
    )
    n = con.execute("select count(*) from identity_det_nodes").fetchone()[0]
    pairs = con.execute(
        """select na.id, nb.id from identity_det_edges as e
        join identity_det_nodes as na on e.a = na.n join identity_det_nodes as nb on e.b = nb.n"""
    ).fetchnumpy()
    a, b = (np.asarray(v, dtype=np.int64) for v in pairs.values())
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    con.execute("create or replace temp table identity_det_labels (id bigint, cluster_id bigint)")
    labels_frame = {"id": np.arange(n, dtype=np.int64), "cluster_id": labels.astype(np.int64)}
    import pyarrow as pa

    arrow = pa.table(labels_frame)  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute("insert into identity_det_labels select * from arrow")
    con.execute(
        f"""create or replace temp table identity_det_clusters as
        select
            records.unique_id,
            min(records.unique_id) over (partition by labels.cluster_id) as cluster_key,
            count(*) over (partition by labels.cluster_id) as cluster_size
        from {records_table} as records
        join identity_det_nodes as nodes on nodes.n = records.unique_id
        join identity_det_labels as labels on labels.id = nodes.id"""
    )
    for table in ("identity_det_edges", "identity_det_nodes", "identity_det_labels"):
        con.execute(f"drop table {table}")
    return "identity_det_clusters"


def decide(
    matches: Iterable[tuple],
    clusters: dict[Hashable, Cluster],
    *,
    accept_threshold: float,
    max_cluster_records: int,
) -> list[tuple[str, str, str | None]]:
    """Status of each match: (pair_id, status, reason).

    ``matches`` rows: (pair_id, probability, cluster_a, cluster_b, decision) where decision
    is a reviewer's 'confirm', 'reject' or None.
    """
    parent: dict[Hashable, Hashable] = {}

    def find(x: Hashable) -> Hashable:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    ordered = sorted(matches, key=lambda m: (m[4] != "confirm", -m[1], m[0]))
    out = []
    for pair_id, probability, cluster_a, cluster_b, decision in ordered:
        if decision == "reject":
            out.append((pair_id, REJECTED_BY_REVIEWER, "a reviewer rejected this pair"))
            continue
        if cluster_a == cluster_b:
            out.append((pair_id, SAME_CLUSTER, "already one person by shared identifiers"))
            continue
        root_a, root_b = find(cluster_a), find(cluster_b)
        a, b = clusters[root_a], clusters[root_b]
        reason = None
        if root_a == root_b:  # joined already by stronger matches: this edge adds nothing
            status, reason = REDUNDANT, "clusters already joined by stronger matches"
        elif decision == "confirm":
            status = CONFIRMED
        elif probability < accept_threshold:
            status = REVIEW
        elif a.records + b.records > max_cluster_records:
            status = BLOCKED_SIZE
            reason = f"would make a cluster of {a.records + b.records} records (limit {max_cluster_records})"
        elif a.dobs and b.dobs and not a.dobs & b.dobs:
            status, reason = BLOCKED_CONFLICT, "different dates of birth"
        elif a.emails and b.emails and not a.emails & b.emails:
            status, reason = BLOCKED_CONFLICT, "different verified emails"
        else:
            status = ACCEPTED
        if status in MERGING_STATUSES and root_a != root_b:
            parent[root_b] = root_a
            clusters[root_a] = Cluster(a.records + b.records, a.dobs | b.dobs, a.emails | b.emails)
        out.append((pair_id, status, reason))
    return out
