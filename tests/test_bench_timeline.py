"""The CPU timeline of a command's process tree (bench/timeline.py): what it counts and where it
finds the cores idle."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timeline import Sample, main, summarize  # noqa: E402


def test_cpu_per_process_and_idle_stretches_from_samples() -> None:
    """Two cores; the main process works alone for 10 s (one core idle), then a child works
    beside it for 4 s (none idle), then the child alone for 6 s."""
    samples = [Sample(0.0, {1: 0.0}), Sample(10.0, {1: 10.0}),
               Sample(14.0, {1: 14.0, 2: 4.0}), Sample(20.0, {1: 14.0, 2: 10.0})]
    summary = summarize(samples, {1: "python -m matchgate verify", 2: "worker"}, cores=2,
                        gap=5.0)
    assert summary["wall_seconds"] == 20.0
    assert summary["cpu_seconds"] == 24.0
    assert summary["idle_core_seconds"] == 16.0  # 10 in the first stretch, 6 in the last
    main_, child = summary["processes"]
    assert (main_["name"], main_["cpu_seconds"], main_["cores"]) == ("main", 14.0,
                                                                   [1.0, 1.0, 0.0])
    assert (child["name"], child["cpu_seconds"], child["from"], child["cores"]) == \
        ("child 1", 10.0, 10.0, [0.0, 1.0, 1.0])
    assert summary["tree_cores"] == [1.0, 2.0, 1.0]
    assert summary["idle_stretches"] == [
        {"from": 0.0, "to": 10.0, "idle_core_seconds": 10.0},
        {"from": 14.0, "to": 20.0, "idle_core_seconds": 6.0}]


def test_short_idle_stretches_are_counted_but_not_listed() -> None:
    samples = [Sample(float(t), {1: float(min(t, 3))}) for t in range(5)]
    summary = summarize(samples, {}, cores=1, gap=5.0)
    assert summary["idle_core_seconds"] == 1.0
    assert summary["idle_stretches"] == []


def test_a_real_command_and_its_child_are_sampled(tmp_path: Path) -> None:
    """A process that spins for a second and starts a child that spins too: both are seen,
    each with about a second of CPU, and the exit code is the command's."""
    code = ("import multiprocessing as mp, sys, time\n"
            "def spin():\n"
            "    t = time.process_time()\n"
            "    while time.process_time() - t < 1.0: pass\n"
            "if __name__ == '__main__':\n"
            "    p = mp.get_context('spawn').Process(target=spin); p.start(); spin(); p.join()\n"
            "    sys.exit(3)\n")
    script = tmp_path / "spin.py"
    script.write_text(code, encoding="utf-8")
    out = tmp_path / "timeline.json"
    assert main(["--every", "0.2", "--out", str(out), "--", sys.executable, str(script)]) == 3
    import json

    summary = json.loads(out.read_text(encoding="utf-8"))
    names = [p["name"] for p in summary["processes"]]
    assert names[0] == "main" and len(names) >= 2
    assert summary["processes"][0]["cpu_seconds"] >= 0.8
    assert max(p["cpu_seconds"] for p in summary["processes"][1:]) >= 0.8
    assert summary["exit_code"] == 3
