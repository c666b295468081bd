"""CPU seconds a process and everything under it used, read from /proc (Linux); Postgres' split by the
database its backends served."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_seconds(pid: int, tree: dict[int, list[int]], apart: set[int]) -> float:
    """utime + stime of the process and its live descendants, each with what its reaped children used
    (cutime + cstime): a Postgres backend that has exited still counts, under the postmaster.
    Descendants in `apart` are counted on their own (the client started the servers)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / TICKS
    return own + sum(tree_seconds(child, tree, apart) for child in tree.get(pid, []) if child not in apart)


def snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process tree."""
    tree, apart = _children(), set(pids.values())
    return {name: tree_seconds(pid, tree, apart) for name, pid in pids.items()}


def own_seconds(pids: Iterable[int]) -> dict[int, float]:
    """utime + stime of each live process among `pids`, without its children."""
    return {pid: sum(int(value) for value in fields[11:13]) / TICKS for pid in pids if (fields := _stat(pid))}


def split_by_label(
    before: Mapping[int, float], after: Mapping[int, float], labels: Mapping[int, str], total: float
) -> dict[str, float]:
    """`total` shared out by label: what each labelled process used between `before` and `after` (all of
    its time if it started in between). The rest, processes that exited or have no label, is "other"."""
    shares: dict[str, float] = {}
    for pid, label in labels.items():
        if pid in after:
            shares[label] = shares.get(label, 0.0) + after[pid] - before.get(pid, 0.0)
    return {
        **{label: round(seconds, 2) for label, seconds in sorted(shares.items())},
        "other": round(total - sum(shares.values()), 2),
    }
