"""Connected components of the identity graph, per tenant.

Every identifier and person record is a node; the edges are int_identity_edges_filtered
(deterministic links, plus the probabilistic stage's accepted matches), so blocked
identifiers link nobody. Nodes are numbered in SQL, and scipy's connected_components
(union-find-like, linear in the edges) labels them: its cost does not depend on how long
a chain of identifiers is, which an SQL label propagation does (one round per hop; the
recursive CTE this replaces ran for over 20 minutes at the large scale).

The labels are only meaningful within one run: stable customer ids come from the
registry (int_identity_customer_ids_assigned), which compares each run's components
with the ids nodes had before. So the graph is recomputed in full every run; at the
large scale that is a few seconds.
"""

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def model(dbt, session):
    dbt.config(materialized="table")
    # The inputs as temporary views, so that the SQL below can name them (dbt parses
    # each ref from a literal).
    inputs = {
        "edges": dbt.ref("int_identity_edges_filtered"),
        "all_edges": dbt.ref("int_identity_edges_collected"),
        "blocked": dbt.ref("int_identity_identifiers_blocked"),
        "contacts": dbt.ref("stg_crm__contacts"),
        "leads": dbt.ref("stg_crm__leads"),
        "events": dbt.ref("stg_segment__events"),
    }
    for name, relation in inputs.items():
        relation.create_view(f"identity_input_{name}", replace=True)

    # Every node: edge ends, every person record and every user and visitor id (a record
    # or visitor with no link is a customer of its own), less the blocked identifiers.
    session.execute(
        """
        create or replace temp table identity_nodes as
        with node_keys as (
            select tenant_id, node_a as node_key from identity_input_all_edges
            union
            select tenant_id, node_b from identity_input_all_edges
            union
            select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id from identity_input_contacts
            union
            select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id from identity_input_leads
            union
            select tenant_id, 'user_id:' || user_id from identity_input_events where user_id is not null
            union
            select tenant_id, 'anonymous_id:' || anonymous_id from identity_input_events where anonymous_id is not null
        ),
        kept as (
            select node_keys.tenant_id, node_keys.node_key
            from node_keys
            anti join identity_input_blocked as blocked
                on node_keys.tenant_id = blocked.tenant_id and node_keys.node_key = blocked.node_key
        )
        select
            tenant_id,
            node_key,
            (row_number() over (order by tenant_id, node_key) - 1)::integer as node_id
        from kept
        """
    )
    node_count = session.execute("select count(*) from identity_nodes").fetchone()[0]
    pairs = session.execute(
        """
        select a.node_id as source_id, b.node_id as target_id
        from identity_input_edges as edges
        inner join identity_nodes as a on edges.tenant_id = a.tenant_id and edges.node_a = a.node_key
        inner join identity_nodes as b on edges.tenant_id = b.tenant_id and edges.node_b = b.node_key
        """
    ).fetchnumpy()
    sources = np.asarray(pairs["source_id"], dtype=np.int32)
    targets = np.asarray(pairs["target_id"], dtype=np.int32)

    graph = coo_matrix(
        (np.ones(len(sources), dtype=np.int8), (sources, targets)), shape=(node_count, node_count)
    )
    # Edges are undirected (node_a < node_b): weak connectivity is what is meant.
    _, labels = connected_components(graph, directed=True, connection="weak")
    # Neighbours per node, a pair counted once (an edge may exist under several rules).
    unique_pairs = (
        np.unique(np.stack([sources, targets], axis=1), axis=0) if len(sources) else np.empty((0, 2))
    )
    degree = np.bincount(unique_pairs.ravel().astype(np.int64), minlength=node_count)
    component_size = np.bincount(labels, minlength=labels.max() + 1 if node_count else 0)

    clusters = pa.table(
        {
            "node_id": pa.array(np.arange(node_count, dtype=np.int32)),
            "component_id": pa.array(labels.astype(np.int64)),
            "component_size": pa.array(component_size[labels].astype(np.int64)),
            "degree": pa.array(degree.astype(np.int64)),
        }
    )
    session.register("identity_clusters", clusters)
    return session.sql(
        """
        select
            identity_nodes.tenant_id,
            identity_nodes.node_key,
            split_part(identity_nodes.node_key, ':', 1) as node_type,
            clusters.component_id,
            clusters.component_size,
            clusters.degree
        from identity_nodes
        inner join identity_clusters as clusters on identity_nodes.node_id = clusters.node_id
        """
    )
