"""The batch manifest (TOML or JSON): which agreement, under which legal basis, who certifies,
the certification, and for a court order the court, docket and order date.

The manifest is parsed here; whether it satisfies the agreement is the gate's question
(gate.check_manifest), so that a manifest lacking an element rejects every request with a
reason instead of failing without a trace."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from matchgate.errors import ManifestError, Problem
from matchgate.intake.characters import normalise

# A manifest is a few lines; a larger file is refused before it is parsed.
MAX_MANIFEST_BYTES = 64 * 1024
MAX_LISTED = 20


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    agreement_id: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=200)
    requesting_official: str = Field(min_length=1, max_length=200)
    certification: str | None = Field(default=None, max_length=4000)
    court: str | None = Field(default=None, max_length=200)
    docket: str | None = Field(default=None, max_length=200)
    order_date: date | None = None

    @field_validator("agreement_id", "legal_basis", "requesting_official", "certification",
                     "court", "docket", mode="before")
    @classmethod
    def _characters(cls, value: object) -> object:
        """The character rules of request values (intake.characters): NFKC, invisible
        format characters removed, a control character refused."""
        if not isinstance(value, str):
            return value
        text, control = normalise(value)
        if control is not None:
            raise ValueError(f"holds {control}")
        return text

    def value(self, field: str) -> str | None:
        """A manifest field as text (None when absent or blank)."""
        raw = getattr(self, field, None)
        if raw is None:
            return None
        text = raw.isoformat() if isinstance(raw, date) else str(raw).strip()
        return text or None


def _decode(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path} is not UTF-8 text", problems=[
            Problem(f"undecodable byte at offset {exc.start}", file=str(path))]) from exc
    suffix = path.suffix.lower()
    kind = "TOML" if suffix == ".toml" else "JSON"
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except RecursionError as exc:
        raise ManifestError(f"{path} is not valid {kind}", problems=[
            Problem("values nested too deeply", file=str(path))]) from exc
    except ValueError as exc:  # TOMLDecodeError, JSONDecodeError, a 4,300-digit number
        raise ManifestError(f"{path} is not valid {kind}",
                            problems=[Problem(str(exc), file=str(path))]) from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{path} must hold an object of manifest fields",
                            problems=[Problem("the top level is not an object", file=str(path))])
    return data


def manifest_from_data(data: dict[str, Any], *, source: str = "<manifest>") -> Manifest:
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"])[:100] or None
            msg = {"missing": "is required", "extra_forbidden": "is not a manifest field"}.get(
                e["type"], str(e["msg"]).removeprefix("Value error, "))
            problems.append(Problem(msg, file=source, field=field))
        if len(problems) > MAX_LISTED:
            extra = len(problems) - MAX_LISTED
            problems = [*problems[:MAX_LISTED], Problem(f"... and {extra} more", file=source)]
        raise ManifestError(f"{source} is not a valid manifest", problems=problems) from exc


def load_manifest(path: Path | str) -> Manifest:
    """Read a manifest (.toml or .json); ManifestError lists every problem."""
    p = Path(path)
    if p.suffix.lower() not in (".toml", ".json"):
        raise ManifestError(f"{p}: a manifest is a .toml or .json file",
                            problems=[Problem(f"unknown extension '{p.suffix}'", file=str(p))])
    try:
        size = p.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{p}: a manifest is at most {MAX_MANIFEST_BYTES:,} bytes",
                                problems=[Problem(f"the file has {size:,} bytes", file=str(p))])
        raw = p.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {p}",
                            problems=[Problem(exc.strerror or str(exc), file=str(p))]) from exc
    return manifest_from_data(_decode(p, raw), source=str(p))
