"""One small synthetic batch run end to end, for the tests of what reads its records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.pipeline import BatchResult
from matchgate.service import Services
from matchgate.settings import Settings


@dataclass
class RanBatch:
    settings: Settings
    services: Services
    data: GenerateReport
    result: BatchResult


def run_batch(folder: Path, *, database_url: str | None = None, taxpayers: int = 2_000,
              requests: int = 300, seed: int = 7) -> RanBatch:
    data = generate(folder / "input", taxpayers=taxpayers, requests=requests, seed=seed)
    settings = Settings(home=folder / "home", database_url=database_url)
    settings.ensure_home()
    load_master(data.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    result = services.verify_batch(requests_path=data.requests_path,
                                   manifest_path=data.manifest_path,
                                   responses_path=folder / "responses.csv", decisions_path=None)
    return RanBatch(settings, services, data, result)
