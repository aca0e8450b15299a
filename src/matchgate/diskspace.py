"""The temporary folder (MATCHGATE_TMP_DIR): DuckDB spills there and our temporary files live
there. When it is full, a batch stops with NoSpace (CLI exit 75, API 507) between two of its
checkpoints, rather than failing somewhere inside the match engine; what is recorded stays
recorded, and the batch resumes when space returns."""

from __future__ import annotations

import errno
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from matchgate.errors import MatchgateError, NoSpace
from matchgate.settings import Settings

MIB = 1024 * 1024
#: what DuckDB and the engines report when a write finds the disk full
NO_SPACE_TEXTS = ("no space left on device", "out of disk space",
                  # DuckDB, when its temp_directory fills up: "failed to offload data block
                  # ... This limit was set by the 'max_temp_directory_size' setting"
                  "max_temp_directory_size")


def use_tmp_dir(settings: Settings) -> None:
    """Make MATCHGATE_TMP_DIR the process's temporary folder (Python's tempfile, hence every
    TemporaryDirectory of ours and DuckDB's temp_directory inside them)."""
    if settings.tmp_dir is not None:
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = str(settings.tmp_dir)


def is_no_space(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the disk is full."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, MatchgateError):
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(seen).lower() for text in NO_SPACE_TEXTS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class TempSpace:
    """The temporary folder and the free space a batch needs there before each chunk."""

    folder: Path | None = None
    min_free_bytes: int = 0

    @property
    def path(self) -> Path:
        return self.folder or Path(tempfile.gettempdir())

    def error(self, what: str) -> NoSpace:
        return NoSpace(
            f"the temporary folder {self.path} is full ({what}); the batch stopped, and every "
            "decision recorded so far is kept",
            hint=f"free space in {self.path} (or point MATCHGATE_TMP_DIR at a larger folder), "
                 "then run the same command again: it resumes where it stopped")

    def check(self) -> None:
        """NoSpace unless the folder has min_free_bytes free."""
        if self.min_free_bytes <= 0:
            return
        try:
            free = shutil.disk_usage(self.path).free
        except OSError as exc:
            raise self.error(f"it cannot be read: {exc.strerror}") from exc
        if free < self.min_free_bytes:
            raise self.error(f"{free // MIB} MiB free, at least {self.min_free_bytes // MIB} "
                             "MiB needed")

    @contextmanager
    def translating(self) -> Iterator[None]:
        """Turn a disk-full error raised inside into NoSpace naming the folder."""
        try:
            yield
        except NoSpace:
            raise
        except Exception as exc:
            if is_no_space(exc):
                raise self.error("a write failed: no space left on the device") from exc
            raise
