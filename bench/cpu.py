"""CPU seconds a process and everything under it used, read from /proc (Linux)."""

from __future__ import annotations

import os
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
