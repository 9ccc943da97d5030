"""bench/process_memory.py: the peak memory of a process and its children together, as the
import benchmark measures it: a child's own memory counts, and memory a forked child shares with
its parent counts once, not once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bench.process_memory import ProcessMemory

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

MB = 2**20

# argv[1]: MB the parent fills before forking (shared with the child); argv[2]: MB the child
# fills after the fork (its own). Both then wait a second for the sampler.
PROGRAM = textwrap.dedent(
    """
    import mmap, os, sys, time
    shared = bytearray(int(sys.argv[1]) * 2**20)
    # argv[3]: MB of a shared mapping (as PostgreSQL's shared buffers are), filled by the parent.
    segment = mmap.mmap(-1, max(int(sys.argv[3]), 1) * 2**20)
    for page in range(0, int(sys.argv[3]) * 2**20, 4096):
        segment[page] = 120
    shared[::4096] = b"x" * len(shared[::4096])
    pid = os.fork()
    if pid == 0:
        own = bytearray(int(sys.argv[2]) * 2**20)
        own[::4096] = b"x" * len(own[::4096])
        time.sleep(1.5)
        os._exit(0)
    os.waitpid(pid, 0)
    """
)


def measure(shared_mb: int, own_mb: int, segment_mb: int = 0) -> dict:
    argv = [sys.executable, "-c", PROGRAM, str(shared_mb), str(own_mb), str(segment_mb)]
    proc = subprocess.Popen(argv)
    with ProcessMemory(proc.pid, interval=0.02, rescan_every=5) as memory:
        assert proc.wait(timeout=30) == 0
    return memory.result()


def test_a_childs_own_memory_counts_with_its_parents():
    result = measure(shared_mb=0, own_mb=80)

    assert result["processes_by_role"] == {"process": 1, "its children": 1}
    assert result["peak_pss_mb_by_role"]["its children"] >= 75
    assert result["peak_pss_mb"] >= 75


def test_memory_shared_by_a_fork_counts_once():
    result = measure(shared_mb=80, own_mb=0)

    assert 75 <= result["peak_pss_mb"] < 120  # 80 MB once, not twice
    assert result["peak_rss_mb"] >= 155  # each process maps the 80 MB: RSS counts it twice


def test_shared_memory_such_as_a_servers_shared_buffers_is_also_given_apart():
    result = measure(shared_mb=0, own_mb=0, segment_mb=80)

    assert result["peak_pss_mb"] >= 75  # counted in the peak, as a backend's share is
    assert result["peak_pss_mb_without_shared_memory"] < 40
    own = result["peak_pss_mb_without_shared_memory_by_role"]
    assert own["process"] < 40
