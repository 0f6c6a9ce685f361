"""Connected components of the identity graph, per tenant.

Every identifier and person record is a node; the edges are int_identity_edges_filtered
(deterministic links, plus the probabilistic stage's accepted matches), so blocked
identifiers link nobody. Nodes are numbered in SQL, and scipy's connected_components
(union-find-like, linear in the edges) labels them: its cost does not depend on how long
a chain of identifiers is, which an SQL label propagation does (one round per hop; the
recursive CTE this replaces ran for over 20 minutes at the large scale).

Incremental by component (D34). Each node stores an xor of hashes of its edges, so a
run finds every node whose edges changed in any way (an edge added,
one gone because a record's new version dropped an identifier, one filtered out because
its identifier became blocked, a probabilistic match accepted or withdrawn) by comparing
those with today's edges. The components holding such a node, a new node (rows loaded
since the last run), a node now blocked, or a node that an erasure deleted (a component
whose row count no longer matches its size) are recomputed from scratch, with every
node they had; all other components cannot have changed. Their rows are replaced, with
component ids above any used before, so ids stay unique; `clustered_at` says which rows
a run wrote, and the registry (int_identity_customer_ids_assigned) re-examines only
those. The golden test checks the result against a full refresh after merges, splits,
an erasure and vanished edges.
"""

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# A node exists while something names it: an edge end (blocked or not), a person record,
# or an event's userId or anonymousId; a blocked identifier is never a node.
NODE_SOURCES = """
    select tenant_id, node_a as node_key from identity_input_all_edges
    union all
    select tenant_id, node_b from identity_input_all_edges
    union all
    select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id from identity_input_contacts
    union all
    select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id from identity_input_leads
    union all
    select tenant_id, 'user_id:' || user_id from (
        select distinct tenant_id, user_id from identity_input_events where user_id is not null)
    union all
    select tenant_id, 'anonymous_id:' || anonymous_id from (
        select distinct tenant_id, anonymous_id from identity_input_events where anonymous_id is not null)
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
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

    # Per node (by a hash of its key: grouping integers is three times cheaper than
    # grouping the keys), an xor of hashes of its edges (other end and rule): the state an
    # incremental run compares with. Two keys sharing a hash share a signature, which can
    # only make a run recompute more components, never fewer. Both ends come from one
    # read of the edges (unnest): a union of two reads filtered the view twice (1.7-2.1 s
    # against 1.3-1.4 s at the large scale).
    session.execute(
        """
        create or replace temp table identity_signatures as
        with ends as (
            select
                unnest([hash(tenant_id, node_a), hash(tenant_id, node_b)]) as node_hash,
                unnest([hash(node_b, rule), hash(node_a, rule)]) as edge_hash
            from identity_input_edges
        )
        select node_hash, bit_xor(edge_hash) as edges_hash from ends group by node_hash
        """
    )
    # What the inputs held when this run read them: the next run's watermark for new nodes.
    loaded_until = session.execute(
        """
        select greatest(
            (select max(loaded_at) from identity_input_contacts),
            (select max(loaded_at) from identity_input_leads),
            (select max(raw_loaded_at) at time zone 'UTC' from identity_input_events)
        )::varchar
        """
    ).fetchone()[0]

    this = str(dbt.this)
    state_is_complete = False
    if dbt.is_incremental:
        columns = {row[0] for row in session.execute(f"describe {this}").fetchall()}
        state_columns = {"node_hash", "edges_hash", "inputs_loaded_until"}
        state_is_complete = (
            state_columns <= columns
            and not session.execute(
                f"select count(*) from {this} where edges_hash is null or inputs_loaded_until is null"
            ).fetchone()[0]
        )
    if state_is_complete:
        _select_affected_nodes(session, this)
        first_component_id = session.execute(
            f"select coalesce(max(component_id), -1) + 1 from {this}"
        ).fetchone()[0]
        session.execute(
            f"delete from {this} where component_id in (select component_id from identity_affected)"
        )
    else:
        session.execute(
            f"""
            create or replace temp table identity_candidates as
            select distinct tenant_id, node_key from ({NODE_SOURCES}) as sources
            anti join identity_input_blocked as blocked using (tenant_id, node_key)
            """
        )
        first_component_id = 0
        if dbt.is_incremental:  # a table from before the incremental state existed
            session.execute(f"delete from {this}")

    clusters = _cluster(session, first_component_id)
    session.register("identity_clusters", clusters)
    return session.sql(
        f"""
        select
            nodes.tenant_id,
            nodes.node_key,
            split_part(nodes.node_key, ':', 1) as node_type,
            clusters.component_id,
            clusters.component_size,
            clusters.degree,
            hash(nodes.tenant_id, nodes.node_key) as node_hash,
            coalesce(signatures.edges_hash, 0)::ubigint as edges_hash,
            '{loaded_until}'::timestamp as inputs_loaded_until,
            now() at time zone 'UTC' as clustered_at
        from identity_numbered as nodes
        inner join identity_clusters as clusters on nodes.node_id = clusters.node_id
        left join identity_signatures as signatures on hash(nodes.tenant_id, nodes.node_key) = signatures.node_hash
        """
    )


def _select_affected_nodes(session, this):
    """Fill identity_affected (prior component ids to recompute) and identity_candidates
    (the nodes those components are rebuilt from: their old nodes that still exist, and
    new nodes)."""
    watermark = session.execute(f"select max(inputs_loaded_until)::varchar from {this}").fetchone()[0]
    # userIds and anonymousIds of events loaded since the last run: they exist.
    session.execute(
        f"""
        create or replace temp table identity_dirty_loaded as
        select distinct tenant_id, node_key from (
            select tenant_id, unnest(['user_id:' || user_id, 'anonymous_id:' || anonymous_id]) as node_key
            from identity_input_events
            where raw_loaded_at > ('{watermark}'::timestamp at time zone 'UTC')
        )
        where node_key is not null
        """
    )
    session.execute(
        f"""
        create or replace temp table identity_dirty as
        -- edges changed: the xor of the node's edges differs from what it stored. Not
        -- distinct (0.7 s at the large scale): nodes sharing a hash stored the same xor (the
        -- signature of the hash), so their repeated rows compare alike.
        with changed as (
            select coalesce(prior.node_hash, now_.node_hash) as node_hash
            from {this} as prior
            full join identity_signatures as now_ on prior.node_hash = now_.node_hash
            where coalesce(prior.edges_hash, 0) <> coalesce(now_.edges_hash, 0)
        )
        select prior.tenant_id, prior.node_key from {this} as prior semi join changed using (node_hash)
        union
        -- new nodes: of rows loaded since the last run, those it did not have (a known
        -- node's new rows change its component only if they change its edges)
        (
            select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id
            from identity_input_contacts where loaded_at > '{watermark}'::timestamp
            union
            select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id
            from identity_input_leads where loaded_at > '{watermark}'::timestamp
            union
            select tenant_id, node_key from identity_dirty_loaded
            except
            select prior.tenant_id, prior.node_key from {this} as prior
        )
        union
        -- nodes now blocked
        select prior.tenant_id, prior.node_key
        from {this} as prior
        semi join identity_input_blocked as blocked using (tenant_id, node_key)
        """
    )
    session.execute(
        f"""
        create or replace temp table identity_affected as
        select distinct prior.component_id
        from {this} as prior
        semi join identity_dirty as dirty using (tenant_id, node_key)
        union
        -- an erasure deleted some of the component's nodes
        select component_id from {this} group by component_id having count(*) <> any_value(component_size)
        """
    )
    # A node outside the recomputed set with an edge into it is new (a new node's
    # neighbours are dirty: their edges changed) or, if the argument above missed a case,
    # in a component that changed too: add it, or its component, and look again.
    while True:
        _existing_candidates(session, this)
        session.execute(
            """
            create or replace temp table identity_outside as
            with touching as (
                select edges.tenant_id, edges.node_a, edges.node_b
                from identity_input_edges as edges
                semi join identity_candidates as c on edges.tenant_id = c.tenant_id and edges.node_a = c.node_key
                union all
                select edges.tenant_id, edges.node_a, edges.node_b
                from identity_input_edges as edges
                semi join identity_candidates as c on edges.tenant_id = c.tenant_id and edges.node_b = c.node_key
            ),
            ends as (
                select tenant_id, node_a as node_key from touching
                union
                select tenant_id, node_b from touching
            )
            select * from ends anti join identity_candidates as c using (tenant_id, node_key)
            """
        )
        if not session.execute("select count(*) from identity_outside").fetchone()[0]:
            return
        session.execute(
            f"""
            insert into identity_affected
            select distinct prior.component_id from {this} as prior
            semi join identity_outside as outside using (tenant_id, node_key)
            where prior.component_id not in (select component_id from identity_affected)
            """
        )
        session.execute("insert into identity_dirty select * from identity_outside")


def _existing_candidates(session, this):
    """identity_candidates: the nodes of the affected components and the dirty nodes that
    still exist (NODE_SOURCES, checked from the small candidate side), less blocked ones."""
    session.execute(
        f"""
        create or replace temp table identity_maybe as
        select tenant_id, node_key from {this} semi join identity_affected using (component_id)
        union
        select tenant_id, node_key from identity_dirty where node_key is not null
        """
    )
    session.execute(
        """
        create or replace temp table identity_candidates as
        with named as (
            select tenant_id, node_a as node_key from identity_input_all_edges as edges
            semi join identity_maybe as maybe on edges.tenant_id = maybe.tenant_id and edges.node_a = maybe.node_key
            union all
            select tenant_id, node_b from identity_input_all_edges as edges
            semi join identity_maybe as maybe on edges.tenant_id = maybe.tenant_id and edges.node_b = maybe.node_key
            union all
            select maybe.tenant_id, maybe.node_key from identity_maybe as maybe
            semi join identity_input_contacts as contacts on maybe.tenant_id = contacts.tenant_id
                and maybe.node_key = 'external_id:' || contacts.source_system || ':contacts:' || contacts.contact_id
            union all
            select maybe.tenant_id, maybe.node_key from identity_maybe as maybe
            semi join identity_input_leads as leads on maybe.tenant_id = leads.tenant_id
                and maybe.node_key = 'external_id:' || leads.source_system || ':leads:' || leads.lead_id
            union all
            -- ids of events loaded since the last run exist
            select tenant_id, node_key from identity_maybe semi join identity_dirty_loaded using (tenant_id, node_key)
        )
        select distinct named.tenant_id, named.node_key
        from named
        anti join identity_input_blocked as blocked using (tenant_id, node_key)
        """
    )
    # A userId or anonymousId of an older event that no edge names any more: look for
    # it in the events (rare; the scan of every event is skipped when there is none).
    session.execute(
        """
        create or replace temp table identity_unresolved as
        select tenant_id, node_key from identity_maybe
        where node_key like 'user_id:%' or node_key like 'anonymous_id:%'
        except
        select tenant_id, node_key from identity_candidates
        except
        select tenant_id, node_key from identity_input_blocked
        """
    )
    if session.execute("select count(*) from identity_unresolved").fetchone()[0]:
        session.execute(
            """
            insert into identity_candidates
            select unresolved.tenant_id, unresolved.node_key
            from identity_unresolved as unresolved
            semi join (
                select tenant_id, 'user_id:' || user_id as node_key from identity_input_events
                union all
                select tenant_id, 'anonymous_id:' || anonymous_id from identity_input_events
            ) as event_ids using (tenant_id, node_key)
            """
        )


def _cluster(session, first_component_id):
    """Number identity_candidates (as identity_numbered) and label their components."""
    session.execute(
        """
        create or replace temp table identity_numbered as
        select tenant_id, node_key, (row_number() over (order by tenant_id, node_key) - 1)::integer as node_id
        from identity_candidates
        """
    )
    node_count = session.execute("select count(*) from identity_numbered").fetchone()[0]
    pairs = session.execute(
        """
        select a.node_id as source_id, b.node_id as target_id
        from identity_input_edges as edges
        inner join identity_numbered as a on edges.tenant_id = a.tenant_id and edges.node_a = a.node_key
        inner join identity_numbered as b on edges.tenant_id = b.tenant_id and edges.node_b = b.node_key
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
    return pa.table(
        {
            "node_id": pa.array(np.arange(node_count, dtype=np.int32)),
            "component_id": pa.array(labels.astype(np.int64) + first_component_id),
            "component_size": pa.array(component_size[labels].astype(np.int64)),
            "degree": pa.array(degree.astype(np.int64)),
        }
    )
