"""CPU accounting for the benchmarks, read from Linux's /proc: a run's CPU seconds are
steadier than its wall time on a shared machine, and show who spent them (the app, the
database server, the load generator)."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def gunicorn_pids(master: int) -> list[int]:
    """The master and its workers."""
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(entry.name))
    return pids


def postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL server process (pid -> seconds): the
    backends serving the workers, including any opened during the run, and the server's
    own helpers (WAL writer, checkpointer, autovacuum), whose work the load causes too."""
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        if head.split("(", 1)[-1] != "postgres":
            continue
        fields = rest.split()
        out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def postgres_cpu_since(before: dict[int, float]) -> float:
    """PostgreSQL's CPU seconds since ``before`` (a ``postgres_cpu()`` reading)."""
    return sum(now - before.get(pid, 0.0) for pid, now in postgres_cpu().items())
