"""Intake: request files (CSV, JSON Lines, Parquet) and batch manifests (TOML, JSON).

- read_requests(path) -> IntakeResult (requests: list[RequestRow])
- load_manifest(path) -> Manifest
"""

from matchgate.intake.manifest import Manifest, load_manifest, manifest_from_data
from matchgate.intake.readers import read_requests
from matchgate.intake.rows import IntakeResult, RequestRow

__all__ = ["IntakeResult", "Manifest", "RequestRow", "load_manifest", "manifest_from_data",
           "read_requests"]
