"""The service layer: what the CLI (and later the API) call. Opens the stores and the engine
once, and hands out the operations by job."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matchgate.agreement import Agreement, load_agreement
from matchgate.audit import AuditEvent, AuditLog, ChainReport, EventType
from matchgate.audit.tlog import Signer
from matchgate.diskspace import MIB, TempSpace, use_tmp_dir
from matchgate.errors import InputError
from matchgate.intake import load_manifest
from matchgate.match.engine import MatchEngine, make_engine
from matchgate.pipeline import Actor, BatchResult, BatchRun
from matchgate.progress import Reporter
from matchgate.settings import Settings
from matchgate.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    actor: Actor = field(default_factory=Actor)
    _engine: MatchEngine | None = None

    @classmethod
    def open(cls, settings: Settings) -> Services:
        settings.ensure_home()
        use_tmp_dir(settings)
        return cls(settings=settings, store=Store.open(settings.resolved_database_url()))

    @property
    def space(self) -> TempSpace:
        return TempSpace(self.settings.tmp_dir, self.settings.tmp_min_free_mb * MIB)

    @property
    def engine(self) -> MatchEngine:
        if self._engine is None:
            self._engine = make_engine(self.settings.engine, self.settings.resolved_match_store(),
                                       spark_master=self.settings.spark_master)
        return self._engine

    def load_agreement(self, path: Path) -> Agreement:
        """Validate an agreement and put it in force (the newest loaded version of an id is)."""
        agreement = load_agreement(path)
        self.store.save_agreement(agreement_id=agreement.agreement_id,
                                  version=agreement.version,
                                  text=path.read_text(encoding="utf-8"),
                                  loaded_by=self.actor.name)
        AuditLog(self.store).append([AuditEvent(
            event_type=EventType.AGREEMENT_LOADED, actor=self.actor.name, role=self.actor.role,
            origin=self.actor.origin, outcome="success", batch_id=None, request_id=None,
            agreement_version=agreement.version,
            details={"agreement_id": agreement.agreement_id, "source": path.name})])
        return agreement

    def agreement_in_force(self, agreement_id: str) -> Agreement:
        text = self.store.agreement_text(agreement_id=agreement_id)
        if text is None:
            raise InputError(f"agreement '{agreement_id}' has not been loaded",
                             hint="Load it first: matchgate agreement load FILE")
        return Agreement.from_toml_text(text, source=f"agreement {agreement_id}")

    def verify_batch(self, *, requests_path: Path, manifest_path: Path, responses_path: Path,
                     decisions_path: Path | None, reporter: Reporter | None = None
                     ) -> BatchResult:
        manifest = load_manifest(manifest_path)
        agreement = self.agreement_in_force(manifest.agreement_id)
        run = BatchRun(requests_path=requests_path, manifest=manifest, agreement=agreement,
                       store=self.store, engine=lambda: self.engine,
                       responses_path=responses_path,
                       decisions_path=decisions_path, actor=self.actor, reporter=reporter,
                       chunk_size=self.settings.batch_chunk,
                       signer=Signer.from_settings(self.settings), space=self.space)
        return run.run()

    def verify_audit(self) -> ChainReport:
        return AuditLog(self.store).verify()
