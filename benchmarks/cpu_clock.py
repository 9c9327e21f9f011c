"""How much CPU other processes used while a benchmark ran (the machine may be shared)."""

from __future__ import annotations

import os


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have used since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def others_cores(busy_before: float, own_before: float, seconds: float) -> float:
    """Cores other processes kept busy since the two readings taken `seconds` ago."""
    foreign = (busy_cpu_seconds() - busy_before) - (own_cpu_seconds() - own_before)
    return max(foreign, 0.0) / seconds if seconds > 0 else 0.0
