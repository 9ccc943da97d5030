"""The peak memory of a process, its children and, optionally, the PostgreSQL backends serving it,
all together, sampled in a thread (Linux: read from /proc, no dependency).

    with ProcessMemory(proc.pid, postgres=(postmaster_pid, "bench")) as memory:
        proc.wait()
    memory.result()   # {"peak_pss_mb": …, "peak_rss_mb": …, "by_role": {…}, …}

"Together" is the sum of each process's PSS (proportional set size, /proc/<pid>/smaps_rollup):
a page shared by n processes counts 1/n in each, so the copy-on-write pages a forked child shares
with its parent, and the libraries, count once. The sum of RSS is given beside it as an upper
bound (it counts every shared page once per process). A backend's PSS includes its share of the
shared buffers it has touched (a fixed cache of the server, bounded by `shared_buffers`): the
peak without shared memory (`Pss_Shmem`: PostgreSQL's shared buffers are a shared mapping) is
given beside it, the processes' own memory — a backend's work_mem, temporary buffers, its
caches.

The backends are the postmaster's children whose process title names the database (PostgreSQL
titles them `postgres: <user> <database> <client> <activity>`): the benchmark's database, which
nothing else uses while it is measured.
"""

from __future__ import annotations

import os
import threading
import time

MB = 2**20


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid …": the command name may hold spaces and parentheses.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _children(roots: set[int]) -> dict[int, int]:
    """Every process descending from `roots` (not the roots): pid -> its root."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (ppid := _ppid(int(entry))) is not None:
            parents[int(entry)] = ppid
    found: dict[int, int] = {}
    for pid in parents:
        chain, cursor = [], pid
        while cursor in parents and cursor not in roots and cursor not in found:
            chain.append(cursor)
            cursor = parents[cursor]
        root = cursor if cursor in roots else found.get(cursor)
        if root is not None:
            found.update(dict.fromkeys(chain, root))
    return found


def _title(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return []


def backends(postmaster: int, database: str) -> list[int]:
    """The server's backends connected to `database` now."""
    return [
        pid
        for pid in _children({postmaster})
        if (title := _title(pid))[:1] == ["postgres:"] and title[2:3] == [database]
    ]


def _memory(pid: int) -> tuple[int, int, int] | None:
    """(RSS, PSS, the part of PSS in shared memory) in bytes, or None once the process is
    gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss", "Pss_Shmem"):
            values[name] = int(rest.split()[0]) * 1024
    if "Rss" not in values:  # a zombie has no mappings left
        return None
    return values["Rss"], values["Pss"], values.get("Pss_Shmem", 0)  # (Linux 5.x and later)


class ProcessMemory:
    def __init__(
        self,
        pid: int,
        *,
        postgres: tuple[int, str] | None = None,
        interval: float = 0.1,
        rescan_every: int = 10,
    ) -> None:
        self.pid = pid
        self.postgres = postgres
        self.interval = interval
        self.rescan_every = rescan_every  # samples between two looks for new processes
        self.peak_pss = 0
        self.peak_rss = 0
        self.peak_own = 0  # PSS without shared memory
        self.peak_own_by_role: dict[str, int] = {}
        self.peak_rss_of_pid = 0  # beside the kernel's ru_maxrss: what sampling missed
        self.peak_by_role: dict[str, int] = {}
        self.seen: dict[str, set[int]] = {}
        self.samples = 0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-memory", daemon=True)

    def _roles(self) -> dict[int, str]:
        roles = {self.pid: "process"}
        roles.update(dict.fromkeys(_children({self.pid}), "its children"))
        if self.postgres:
            roles.update(dict.fromkeys(backends(*self.postgres), "PostgreSQL backend"))
        return roles

    def _run(self) -> None:
        roles: dict[int, str] = {}
        started = time.thread_time()
        while not self._stop.is_set():
            if self.samples % self.rescan_every == 0:
                roles = self._roles()
            self.samples += 1
            pss = rss = own = 0
            by_role: dict[str, int] = {}
            own_by_role: dict[str, int] = {}
            for pid, role in roles.items():
                if (memory := _memory(pid)) is None:
                    continue
                rss += memory[0]
                pss += memory[1]
                own += memory[1] - memory[2]
                own_by_role[role] = own_by_role.get(role, 0) + memory[1] - memory[2]
                if pid == self.pid:
                    self.peak_rss_of_pid = max(self.peak_rss_of_pid, memory[0])
                by_role[role] = by_role.get(role, 0) + memory[1]
                self.seen.setdefault(role, set()).add(pid)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_own = max(self.peak_own, own)
            for role, value in by_role.items():
                self.peak_by_role[role] = max(self.peak_by_role.get(role, 0), value)
            for role, value in own_by_role.items():
                self.peak_own_by_role[role] = max(self.peak_own_by_role.get(role, 0), value)
            # The sampling's own CPU, to show what it takes from the figure it measures.
            self.cpu_seconds = time.thread_time() - started
            self._stop.wait(self.interval)

    def __enter__(self) -> ProcessMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict:
        return {
            "peak_pss_mb": round(self.peak_pss / MB, 1),
            "peak_rss_mb": round(self.peak_rss / MB, 1),
            "peak_pss_mb_without_shared_memory": round(self.peak_own / MB, 1),
            "peak_pss_mb_without_shared_memory_by_role": {
                role: round(value / MB, 1) for role, value in self.peak_own_by_role.items()
            },
            "peak_pss_mb_by_role": {
                role: round(value / MB, 1) for role, value in self.peak_by_role.items()
            },
            "processes_by_role": {role: len(pids) for role, pids in self.seen.items()},
            "peak_rss_mb_of_process": round(self.peak_rss_of_pid / MB, 1),
            "samples": self.samples,
            "sampler_cpu_seconds": round(self.cpu_seconds, 2),
        }
