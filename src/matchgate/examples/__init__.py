"""Example agreements and manifests, shipped with the package (the repository's examples/)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def example_path(name: str) -> Path:
    """The path of a shipped example file, e.g. example_path("agreement.toml")."""
    return Path(str(files(__name__).joinpath(name)))
