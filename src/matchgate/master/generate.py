"""`generate`: a synthetic taxpayer population, a request batch against it, and the truth.

Deterministic: the same arguments and seed give the same bytes. All randomness comes from
numpy.random.Generator objects seeded from one SeedSequence; the work runs in chunks of
taxpayers so that ten million fit in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from matchgate.errors import InputError, ProblemCollector
from matchgate.master.households import generate_households
from matchgate.master.master_file import MASTER_SCHEMA, master_rows
from matchgate.master.namedata import given_names, surnames
from matchgate.master.population import People
from matchgate.master.requests import (
    Bases,
    RequestPlan,
    build_requests,
    plan_requests,
    request_counts,
)
from matchgate.master.subjects import concat_people
from matchgate.master.tins import TinPools
from matchgate.master.writers import MASTER_FORMATS, MasterWriter, write_csv, write_manifest

CHUNK = 250_000
AGREEMENT_ID = "IE-TAX-2025-001"
LEGAL_BASIS = "6103(i)(2)"
CERTIFICATION = ("I certify that the information requested will be used only for the purposes "
                 "authorized by the agreement.")
OFFICIAL_TITLES = ("Director, Immigration enforcement agency",
                   "Executive Associate Director, Removal operations",
                   "Assistant Director, Removal operations")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class GenerateReport:
    """What `generate` wrote, and how many of each."""

    master_path: Path
    requests_path: Path
    manifest_path: Path
    truth_path: Path
    taxpayers: int
    itin_taxpayers: int
    households: int
    master_rows: int
    requests: int
    in_master: int
    not_in_master: int
    invalid: int


def validate_arguments(*, taxpayers: int, requests: int, in_master_share: float = 0.7,
                       invalid_share: float = 0.08, master_format: str = "parquet") -> None:
    """Raise InputError, listing every problem, for arguments `generate` cannot honour."""
    problems = ProblemCollector()
    for name, value in (("taxpayers", taxpayers), ("requests", requests)):
        if not isinstance(value, int) or value < 0:
            problems.add(f"must be a whole number of 0 or more, not {value!r}", field=name)
    for name, share in (("in_master_share", in_master_share), ("invalid_share", invalid_share)):
        if not 0.0 <= share <= 1.0:
            problems.add(f"must be between 0 and 1, not {share!r}", field=name)
    if master_format not in MASTER_FORMATS:
        problems.add(f"must be one of {', '.join(MASTER_FORMATS)}, not {master_format!r}",
                     field="master_format")
    if problems:
        raise InputError("cannot generate with these settings", problems=problems.problems)
    n_in = request_counts(requests, in_master_share, invalid_share)[2]
    if n_in > taxpayers:
        raise InputError(
            f"{n_in} requests should be about taxpayers in the master file, but it holds only "
            f"{taxpayers} taxpayers", hint="Lower --requests or raise --taxpayers.")


def _official(rng: np.random.Generator) -> str:
    g, s = given_names(), surnames()
    first = g.names[int(g.pools[(int(rng.integers(0, 2)), 0)].draw(rng, 1)[0])].as_py()
    initial = g.names[int(g.pools[(1, 0)].draw(rng, 1)[0])].as_py()[0]
    last = s.names[int(s.lists["general"].draw(rng, 1)[0])].as_py()
    title = OFFICIAL_TITLES[int(rng.integers(0, len(OFFICIAL_TITLES)))]
    return f"{first.title()} {initial}. {last.title()}, {title}"


@dataclass
class _Capture:
    """Taxpayers picked for requests, collected while their chunk is generated."""

    want: np.ndarray          # sorted global person indices
    parts: list[People]

    def collect(self, people: People, lo: int) -> None:
        hi = lo + len(people)
        sel = self.want[(self.want >= lo) & (self.want < hi)]
        self.parts.append(people.take(sel - lo))

    def people_at(self, idx: np.ndarray) -> People:
        empty = generate_households(np.random.default_rng(0), 0)
        return concat_people([empty, *self.parts]).take(np.searchsorted(self.want, idx))


def _population(seeds: list[np.random.SeedSequence], taxpayers: int, pools: TinPools,
                capture: _Capture, writer: MasterWriter,
                progress: Progress) -> tuple[int, int]:
    """Generate and write the master file chunk by chunk; returns (households, ITIN filers)."""
    households = itins = 0
    for i, lo in enumerate(range(0, taxpayers, CHUNK)):
        rng = np.random.default_rng(seeds[i])
        people = generate_households(rng, min(CHUNK, taxpayers - lo), households)
        people.tin = pools.assign(people.itin)
        capture.collect(people, lo)
        writer.write(master_rows(people.take(rng.permutation(len(people)))))
        households = int(people.hh[-1]) + 1
        itins += int(people.itin.sum())
        progress("taxpayers", min(1.0, (lo + len(people)) / taxpayers))
    return households, itins


def generate(out_dir: Path, *, taxpayers: int, requests: int, seed: int,
             in_master_share: float = 0.7, invalid_share: float = 0.08,
             progress: Progress | None = None,
             master_format: str = "parquet") -> GenerateReport:
    """Write master.<format>, requests.csv, manifest.toml and truth.csv into out_dir."""
    validate_arguments(taxpayers=taxpayers, requests=requests, in_master_share=in_master_share,
                       invalid_share=invalid_share, master_format=master_format)
    report = progress or (lambda stage, fraction: None)
    root = np.random.SeedSequence(seed)
    tin_ss, plan_ss, fresh_ss, request_ss, chunks_ss = root.spawn(5)
    plan_rng = np.random.default_rng(plan_ss)
    plan = plan_requests(plan_rng, requests=requests, taxpayers=taxpayers,
                         in_master_share=in_master_share, invalid_share=invalid_share)
    total = taxpayers + plan.fresh_people
    pools = TinPools.draw(np.random.default_rng(tin_ss), total, min(total, total // 8 + 100))
    picked = plan_rng.choice(taxpayers, plan.in_master + plan.invalid_from_master, replace=False)
    hard = plan_rng.integers(0, max(taxpayers, 1), plan.hard_bases if taxpayers else 0)
    capture = _Capture(np.unique(np.concatenate([picked, hard])), [])

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    master_path = out_dir / f"master.{master_format}"
    n_chunks = -(-taxpayers // CHUNK)
    with MasterWriter(master_path, MASTER_SCHEMA, master_format) as writer:
        households, itins = _population(chunks_ss.spawn(n_chunks), taxpayers, pools, capture,
                                        writer, report)
    report("requests", 0.0)
    fresh = generate_households(np.random.default_rng(fresh_ss), plan.fresh_people, households)
    fresh.tin = pools.assign(fresh.itin)
    bases = Bases(in_master=capture.people_at(picked[:plan.in_master]),
                  invalid=capture.people_at(picked[plan.in_master:]),
                  hard=capture.people_at(hard), fresh=fresh)
    request_rng = np.random.default_rng(request_ss)
    batch, truth = build_requests(request_rng, plan, bases)
    report("requests", 0.5)
    paths = _write_batch(out_dir, batch, truth, _official(request_rng))
    report("requests", 1.0)
    return _report(plan, paths, master_path, taxpayers, itins, households, writer.rows,
                   batch.num_rows)


def _write_batch(out_dir: Path, batch: pa.Table, truth: pa.Table, official: str) -> list[Path]:
    paths = [out_dir / "requests.csv", out_dir / "manifest.toml", out_dir / "truth.csv"]
    write_csv(batch, paths[0])
    write_manifest(paths[1], {"agreement_id": AGREEMENT_ID, "legal_basis": LEGAL_BASIS,
                              "requesting_official": official, "certification": CERTIFICATION})
    write_csv(truth, paths[2])
    return paths


def _report(plan: RequestPlan, paths: list[Path], master_path: Path, taxpayers: int,
            itins: int, households: int, master_rows: int, n_requests: int) -> GenerateReport:
    return GenerateReport(
        master_path=master_path, requests_path=paths[0], manifest_path=paths[1],
        truth_path=paths[2], taxpayers=taxpayers, itin_taxpayers=itins, households=households,
        master_rows=master_rows, requests=n_requests, in_master=plan.in_master,
        not_in_master=plan.valid - plan.in_master, invalid=n_requests - plan.valid,
    )
