"""Where a local stack's Postgres cluster lives: recorded in the stack's state, so a clone made again at the
same path (CI's) starts an empty cluster, and wiping a stack removes the cluster it recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from atelier_devkit.stack import cli, postgres, state


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stacks' state under tmp_path."""
    monkeypatch.setattr(state, "LOCAL", tmp_path / ".local")
    return tmp_path / ".local"


@pytest.fixture
def as_root(local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "running_as_root", lambda: True)


def test_a_stack_with_no_recorded_cluster_gets_a_new_place_each_time(as_root):
    first, second = postgres.postgres_root("test", {}), postgres.postgres_root("test", {})
    assert first != second
    assert first.parent == second.parent == Path("/var/tmp")


def test_a_recorded_cluster_is_found_again(as_root):
    assert postgres.postgres_root("test", {"root": "/var/tmp/atelier-pg-abc"}) == Path("/var/tmp/atelier-pg-abc")


def test_removing_a_stacks_cluster_removes_the_recorded_tree_only(tmp_path: Path):
    recorded, other = tmp_path / "atelier-pg-a", tmp_path / "atelier-pg-b"
    for root in (recorded, other):
        (root / "data").mkdir(parents=True)
        (root / "data" / "PG_VERSION").write_text("17\n")
    postgres.remove_postgres_cluster({"postgres": {"root": str(recorded)}})
    postgres.remove_postgres_cluster({})  # a stack that never started Postgres
    assert not recorded.exists() and (other / "data" / "PG_VERSION").exists()


def test_without_root_the_cluster_lives_in_the_stack_dir(local: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(postgres, "running_as_root", lambda: False)
    assert postgres.postgres_root("test", {}) == local / "stacks" / "test" / "postgres"


def test_wiping_a_stopped_stack_removes_its_cluster_and_its_state_dir(local: Path, tmp_path: Path):
    cluster = tmp_path / "atelier-pg-c"
    (cluster / "data").mkdir(parents=True)
    state.save_state("old", {"name": "old", "postgres": {"root": str(cluster), "data_dir": str(cluster / "data")}})
    state.save_state("kept", {"name": "kept"})
    cli.wipe("old")
    assert not cluster.exists() and not state.stack_dir("old").exists()
    assert state.state_path("kept").exists()
