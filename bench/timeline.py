"""Where a command's cores go, second by second: a CPU timeline of its whole process tree.

    PYTHONPATH=src:. .venv/bin/python -m bench.timeline --out bench/results/timeline.json -- \\
        .venv/bin/python -m matchgate verify REQUESTS -m MANIFEST -o OUT --home HOME

Every `--every` seconds (default 1) the CPU time (user and system) of the command's process and
of each of its descendants is read with psutil; the differences give each process's cores in use
over the interval. The summary says how much CPU each process used, over which span, and how
many core-seconds were idle (the cores of the machine less what the tree used), with the idle
stretches of at least `--gap` seconds listed: a batch that leaves a core idle while one process
works is where a better schedule can win, and where it is busy on both is where only less work
can. CPU a process used after its last sample (one that ends between two) is not counted; a
process is named by the order in which it was first seen ("main", "child 1", ...), with the start
of its command line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

# a core counts as idle in an interval when the tree used less than this share of it
IDLE_SHARE = 0.5


@dataclass
class Sample:
    """The seconds since the start and each live process's CPU seconds so far, by pid."""

    at: float
    cpu: dict[int, float]


@dataclass
class Process:
    name: str
    command: str
    first: float
    last: float
    cpu: float = 0.0
    per_interval: list[float] = field(default_factory=list)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def summarize(samples: Sequence[Sample], commands: dict[int, str], cores: int,
              gap: float = 5.0) -> dict[str, Any]:
    """The timeline's figures: per process its CPU, span and cores per interval; the tree's
    cores per interval; idle core-seconds and the idle stretches of at least `gap` seconds (a
    stretch: consecutive intervals in which at least one core was idle)."""
    processes: dict[int, Process] = {}
    busy: list[float] = []
    lengths = [after.at - before.at for before, after in itertools.pairwise(samples)]
    for (before, after), length in zip(itertools.pairwise(samples), lengths, strict=True):
        used = 0.0
        for pid, total in after.cpu.items():
            process = processes.get(pid)
            if process is None:
                name = "main" if not processes else f"child {len(processes)}"
                process = processes[pid] = Process(name, commands.get(pid, ""), before.at,
                                                   after.at)
                process.per_interval = [0.0] * len(busy)
            delta = max(0.0, total - before.cpu.get(pid, 0.0))
            process.cpu += delta
            process.last = after.at
            process.per_interval.append(round(delta / length, 3) if length > 0 else 0.0)
            used += delta
        for process in processes.values():
            if len(process.per_interval) < len(busy) + 1:
                process.per_interval.append(0.0)
        busy.append(used / length if length > 0 else 0.0)
    idle = sum(max(0.0, cores - b) * n for b, n in zip(busy, lengths, strict=True))
    stretches: list[dict[str, float]] = []
    start: float | None = None
    spare = 0.0
    for i, b in enumerate(busy):
        at = samples[i].at
        if cores - b >= IDLE_SHARE:
            if start is None:
                start, spare = at, 0.0
            spare += (cores - b) * lengths[i]
        elif start is not None:
            if at - start >= gap:
                stretches.append({"from": round(start, 1), "to": round(at, 1),
                                  "idle_core_seconds": round(spare, 1)})
            start = None
    if start is not None and samples and samples[-1].at - start >= gap:
        stretches.append({"from": round(start, 1), "to": round(samples[-1].at, 1),
                          "idle_core_seconds": round(spare, 1)})
    wall = samples[-1].at - samples[0].at if len(samples) > 1 else 0.0
    return {
        "cores": cores, "wall_seconds": round(wall, 1),
        "cpu_seconds": round(sum(p.cpu for p in processes.values()), 1),
        "idle_core_seconds": round(idle, 1),
        "idle_stretches": stretches,
        "processes": [{"name": p.name, "command": p.command[:120],
                       "cpu_seconds": round(p.cpu, 1), "from": round(p.first, 1),
                       "to": round(p.last, 1), "cores": p.per_interval}
                      for p in processes.values()],
        "tree_cores": [round(b, 3) for b in busy],
    }


def record(command: Sequence[str], every: float = 1.0) -> tuple[list[Sample], dict[int, str],
                                                                int]:
    """Run the command, sampling its process tree; the samples, each pid's command line and
    the command's exit code."""
    started = time.monotonic()
    proc = subprocess.Popen(list(command), stdout=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    samples: list[Sample] = []
    commands: dict[int, str] = {}
    while True:
        cpu: dict[int, float] = {}
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                cpu[p.pid] = cpu_seconds(p)
                if p.pid not in commands:
                    commands[p.pid] = " ".join(p.cmdline())
            except psutil.Error:
                continue
        samples.append(Sample(time.monotonic() - started, cpu))
        if proc.poll() is not None:
            break
        time.sleep(every)
    return samples, commands, proc.returncode


def report(summary: dict[str, Any]) -> str:
    lines = [f"wall {summary['wall_seconds']} s on {summary['cores']} cores: "
             f"{summary['cpu_seconds']} CPU-seconds, {summary['idle_core_seconds']} "
             f"core-seconds idle"]
    for p in summary["processes"]:
        lines.append(f"  {p['name']:<9} {p['cpu_seconds']:>8.1f} CPU-s  "
                     f"{p['from']:>7.1f} - {p['to']:<7.1f} s  {p['command'][:60]}")
    for s in summary["idle_stretches"]:
        lines.append(f"  idle: {s['from']} - {s['to']} s ({s['idle_core_seconds']} "
                     "core-seconds)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the timeline as JSON here")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--gap", type=float, default=5.0,
                        help="shortest idle stretch to list (seconds)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the command to run, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    samples, commands, code = record(command, args.every)
    summary = summarize(samples, commands, os.cpu_count() or 1, args.gap)
    summary["command"] = " ".join(command)
    summary["exit_code"] = code
    print(report(summary))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
