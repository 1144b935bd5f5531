"""The `[[pulls]]` sources of config.toml: a drop folder or a platform API, each on a schedule.

A token never sits in config.toml: a pull names the environment variable or the file that
holds it, and reads it at each run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class PullBase(BaseModel):
    """What every `[[pulls]]` source has: a name and a schedule (`every` or `cron`)."""

    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="the source's name")
    every: str | None = Field(None, description='interval: "30s", "15m", "2h", "1d"')
    cron: str | None = Field(None, description='crontab schedule: "0 * * * *"')
    misfire_grace_seconds: int = Field(
        300, ge=1, description="a run missed by up to this long still happens (once)"
    )

    @field_validator("every")
    @classmethod
    def _check_every(cls, value: str | None) -> str | None:
        if value is not None and not EVERY.match(value):
            raise ValueError(f'every = {value!r}: write a number and a unit, as "15m" (s, m, h, d)')
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> PullBase:
        if (self.every is None) == (self.cron is None):
            raise ValueError(
                f'[[pulls]] {self.name}: give exactly one schedule, every = "15m" or '
                'cron = "0 * * * *"'
            )
        return self

    @property
    def every_seconds(self) -> int | None:
        """The `every` interval in seconds (None for a cron schedule)."""
        if self.every is None:
            return None
        number, unit = EVERY.match(self.every).groups()
        return int(number) * SECONDS[unit]

    @property
    def schedule(self) -> str:
        return f"every {self.every}" if self.every else f"cron {self.cron}"


class FolderPull(PullBase):
    """A drop folder: new export files copied into it are ingested."""

    kind: Literal["folder"]
    path: Path = Field(description="the drop folder")
    pattern: str = Field("*", description="glob of the files to take, below the folder")
    format: str | None = Field(None, description="format of every file (default: detect)")
    platform: str | None = Field(None, description="platform to record (default: the format's)")
    project: str | None = Field(None, description="project id to record (default: the file's)")
    settle_seconds: float = Field(
        2.0,
        ge=0,
        description="a file whose size or mtime changes over this long is still "
        "being written: it is left for the next run",
    )


class HttpPull(PullBase):
    """A platform API. The token is read from an environment variable or a file, never from
    config.toml."""

    url: str = Field(description="the API's base URL")
    token_env: str | None = Field(None, description="environment variable holding the token")
    token_file: Path | None = Field(None, description="file holding the token (mode 0600)")
    timeout_seconds: float = Field(60.0, gt=0, description="connect and read timeout")
    retries: int = Field(5, ge=0, description="retries of a failed request, with backoff")
    backoff_seconds: float = Field(
        1.0, gt=0, description="first wait before a retry; doubled each time, with jitter"
    )

    @model_validator(mode="after")
    def _token_somewhere(self) -> HttpPull:
        if (self.token_env is None) == (self.token_file is None):
            raise ValueError(
                f"[[pulls]] {self.name}: name the token's place with token_env or token_file "
                "(one of them); a token never goes into config.toml"
            )
        return self

    def token(self) -> str:
        """The API token, read now (so a rotated token is used at the next run)."""
        if self.token_env is not None:
            value = os.environ.get(self.token_env, "").strip()
            where = f"environment variable {self.token_env}"
        else:
            value = self.token_file.read_text().strip() if self.token_file.is_file() else ""
            where = f"file {self.token_file}"
        if not value:
            raise ValueError(f"pull {self.name}: no API token in the {where}; set it there")
        return value


class TolokaPull(HttpPull):
    """Toloka's assignments API for one pool."""

    kind: Literal["toloka"]
    url: str = Field("https://toloka.dev/api/v1", description="the API's base URL")
    pool: str = Field(description="the pool whose assignments are pulled")
    status: list[str] = Field(
        default_factory=lambda: ["SUBMITTED", "ACCEPTED", "REJECTED"],
        description="assignment statuses to pull",
    )
    page_size: int = Field(1000, ge=1, le=100_000, description="assignments per request")
    auth_scheme: Literal["ApiKey", "OAuth"] = Field(
        "ApiKey",
        description="how the token is sent: `Authorization: ApiKey ...` for an API key (what "
        "Toloka issues now), `OAuth` for an older OAuth token",
    )


class LabelStudioPull(HttpPull):
    """Label Studio's export API for one project."""

    kind: Literal["labelstudio"]
    project: str = Field(description="the Label Studio project id")
    page_size: int = Field(
        100, ge=2, le=1000, description="tasks per request when listing the changed tasks"
    )


Pull = Annotated[FolderPull | TolokaPull | LabelStudioPull, Field(discriminator="kind")]
