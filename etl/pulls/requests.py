"""Asking the scheduler for a run now: a request file per source in `data_dir/pulls/requests`,
written by the dashboard's "Run now" (which never writes to the warehouse) and taken by the
scheduler, which removes it and queues the run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from etl.settings import Settings

SUFFIX = ".request"


def requests_dir(settings: Settings) -> Path:
    return settings.pulls_dir / "requests"


def request_run(settings: Settings, name: str) -> Path:
    """Ask for a run of source `name` now; an unknown name raises KeyError naming the known."""
    settings.pull(name)
    folder = requests_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{SUFFIX}"
    path.write_text(datetime.now(UTC).isoformat() + "\n")
    return path


def take_requests(settings: Settings) -> list[str]:
    """The sources asked for since the last look, each once; their request files removed."""
    folder = requests_dir(settings)
    names = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        path.unlink(missing_ok=True)
        names.append(path.name.removesuffix(SUFFIX))
    return names
