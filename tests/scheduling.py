"""How pytest-xdist splits the suite between its workers (``-n 2`` in pyproject.toml).

A worker is sent a whole group of tests at a time and runs it in collection order, as a
serial run does. The groups: the test files of each session-built warehouse
(tests/conftest.py) together, so that it is built once; every other test with its
package, whose tests share session fixtures and may rely on running in order (the audit
log of tests/api, for one).

xdist's own grouping modes cannot do this here. ``--dist loadgroup`` marks a group by
appending it to the node id, which pytest 9.2 no longer reads: the groups are ignored.
And every scope mode (loadgroup, loadscope, loadfile) keys tests by node id, which all
of schemathesis' items share under pytest 9.2: all its API operations but one would
silently not run. So this is xdist's load scheduling, which sends tests by index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdist.scheduler import LoadScheduling

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

# The test files that use a session-built warehouse (tests/conftest.py). One missing here
# still passes: its worker builds the warehouse again.
SHARED_HOME_FILES = {
    "tests/dbt/test_dbt_golden.py": "built_small_home",
    "tests/identity/test_probabilistic_stage.py": "built_small_home",
    "tests/privacy/test_erasure.py": "built_small_home",
    "tests/privacy/test_rotation_and_retention.py": "built_small_home",
    "tests/dbt/test_dbt_build.py": "handmade_built_by_dagster",
    "tests/api/test_real_marts.py": "handmade_built_by_dagster",
}

# The groups that take minutes (the others take well under one), in the order to start
# them, so that both workers finish about together.
LONGEST_GROUPS = ("built_small_home", "handmade_built_by_dagster", "pipelines")


def group_of(nodeid: str) -> str:
    path = nodeid.split("::")[0]
    return SHARED_HOME_FILES.get(path, path.split("/")[1])


class GroupScheduling(LoadScheduling):
    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = next(iter(self.node2collection.values()))
            groups: dict[str, list[int]] = {}
            for index, nodeid in enumerate(self.collection):
                groups.setdefault(group_of(nodeid), []).append(index)
            order = [name for name in LONGEST_GROUPS if name in groups]
            order += [name for name in groups if name not in LONGEST_GROUPS]
            self.pending[:] = [index for name in order for index in groups[name]]
        for node in self.nodes:
            self.check_schedule(node)

    def check_schedule(self, node: WorkerController, duration: float = 0) -> None:
        if node.shutting_down:
            return
        if not self.pending:
            node.shutdown()
        # A worker holds its last test back until it knows the next one: one pending test
        # means it is finishing its group.
        elif len(self.node2pending[node]) < 2:
            assert self.collection is not None
            group = group_of(self.collection[self.pending[0]])
            size = next(
                (n for n, index in enumerate(self.pending) if group_of(self.collection[index]) != group),
                len(self.pending),
            )
            self._send_tests(node, size)
