"""Settings from the environment (MATCHGATE_*) with sensible embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where matchgate keeps its stores. Every path derives from `home` unless set explicitly."""

    model_config = SettingsConfigDict(env_prefix="MATCHGATE_", extra="ignore")

    home: Path = Field(default=Path("matchgate-data"),
                       description="folder for the match store, the operational store and outputs")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational store (default: SQLite in home)")
    match_store: Path | None = Field(
        default=None, description="DuckDB file of the master store (default: home/master.duckdb)")
    signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs the audit log's checkpoints (default: "
                    "home/checkpoint-signing.key, made on first use; the public key sits beside "
                    "it with suffix .pub)")
    log_origin: str = Field(
        default="matchgate.custodian/audit-log",
        description="name of the audit log in its signed checkpoints (no spaces)")

    engine: Literal["indexed", "duckdb", "spark"] = Field(
        default="indexed",
        description="match engine: indexed (one machine: the master's key index, scored with "
                    "the model in DuckDB; the fastest), duckdb (Splink on DuckDB, the reference) "
                    "or spark (Splink on Spark: pip install matchgate[spark]; the cluster is set "
                    "by MATCHGATE_SPARK_MASTER, default local[*])")
    spark_master: str = Field(default="local[*]",
                              description="Spark master URL when engine is spark")

    batch_chunk: int = Field(
        default=50_000, gt=0,
        description="requests per checkpoint of a batch: standardized, matched, decided and "
                    "recorded together (memory grows with it; a stopped batch resumes after the "
                    "last recorded chunk)")

    tmp_dir: Path | None = Field(
        default=None,
        description="temporary folder: DuckDB spills there and matchgate keeps its temporary "
                    "files there (default: the system's, TMPDIR)")
    tmp_min_free_mb: int = Field(
        default=128, ge=0,
        description="free space (MiB) a batch needs in the temporary folder before each chunk; "
                    "below it the batch stops cleanly (exit 75, HTTP 507) and resumes when "
                    "space returns")

    warm_up: bool = Field(
        default=True,
        description="when the API starts, open the master's key index and look up one made-up "
                    "request in the background, so that the first single request does not wait "
                    "for what is read on first use (seconds at 10 million taxpayers)")

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0,
                                  description="largest request file (or manifest) accepted")
    review_claim_seconds: int = Field(default=900, gt=0,
                                      description="how long a reviewer's claim on an item lasts")
    worker_lease_seconds: int = Field(default=300, gt=0,
                                      description="a worker's claim on a batch lapses after this "
                                                  "long without a heartbeat")
    worker_poll_seconds: float = Field(default=2.0, gt=0,
                                       description="how often an idle worker looks for work")

    tls_cert: Path | None = Field(
        default=None, description="PEM certificate (chain) file that `matchgate serve` presents; "
                                  "with tls_key, the API is served over HTTPS only")
    tls_key: Path | None = Field(
        default=None, description="PEM private key file of tls_cert (a file, never a value)")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'matchgate.sqlite').resolve()}"

    def resolved_match_store(self) -> Path:
        return self.match_store or self.home / "master.duckdb"

    def resolved_signing_key(self) -> Path:
        return self.signing_key or self.home / "checkpoint-signing.key"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
