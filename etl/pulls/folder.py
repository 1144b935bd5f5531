"""The `folder` kind: export files copied into a drop folder.

A file is taken once its size and modification time stay the same over `settle_seconds` (two
looks, one before and one after): a file still being copied is left for the next run. Files
the warehouse has already taken are recognised by their sha256 when the run loads (`etl.pulls.run`),
so renaming or copying a file again loads nothing twice.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.pull_settings import FolderPull


@dataclass
class FolderLook:
    """The files of a drop folder ready to load, and those left for the next run."""

    ready: list[Path] = field(default_factory=list)
    busy: list[Path] = field(default_factory=list)


def look(pull: FolderPull, settle: Callable[[], None] | None = None) -> FolderLook:
    """The folder's files matching `pattern` (hidden ones skipped), split by whether they held
    still between two looks; `settle` waits between them (`settle_seconds` by default)."""
    if not pull.path.is_dir():
        raise FileNotFoundError(
            f"pull {pull.name}: the drop folder {pull.path} does not exist; create it or fix "
            "`path` in its [[pulls]] entry"
        )
    first = _sizes_and_times(pull)
    (settle or (lambda: time.sleep(pull.settle_seconds)))()
    second = _sizes_and_times(pull)
    found = FolderLook()
    for path, seen in sorted(first.items()):
        if second.get(path) == seen:
            found.ready.append(path)
        elif path in second:
            found.busy.append(path)
    return found


def _sizes_and_times(pull: FolderPull) -> dict[Path, tuple[int, int]]:
    files = {}
    for path in pull.path.glob(pull.pattern):
        relative = path.relative_to(pull.path).parts
        if any(part.startswith(".") for part in relative) or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):  # moved away meanwhile
            stat = path.stat()
            files[path] = (stat.st_size, stat.st_mtime_ns)
    return files
