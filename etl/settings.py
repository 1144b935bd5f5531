"""Crowdmeter's settings: one model read from config.toml, CROWDMETER_* variables and secret files.

The model is the source of truth; `config.toml` mirrors it with a comment per setting, and a
test keeps the two in step. Precedence, highest first: constructor arguments, environment
variables (`CROWDMETER_SERVER__PORT=9000`), secret files in the folder CROWDMETER_SECRETS_DIR
names (one file per setting, named like its variable: `crowdmeter_pseudonym_key`), config.toml.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from etl.pull_settings import Pull
from etl.resources import DEFAULT_CONFIG
from metrics.catalog import LEVELS

# The TOML file `load_settings` chose, read while it builds the model (an environment variable
# set as a side effect would leak into every later Settings() of the process).
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("crowdmeter_config_file", default=None)


class SourceSettings(BaseModel):
    """How to read one platform's exports."""

    timezone: str = Field("UTC", description="IANA zone for naive timestamps in this source")
    currency: str = Field("USD", description="ISO 4217 currency of rewards when the file has none")
    worker_fee_rate: float = Field(
        0.0, ge=0, lt=1, description="share of earnings the platform keeps from the worker"
    )
    worker_attributes: dict[str, str] = Field(
        default_factory=dict,
        description="worker attribute name -> column holding it (self-reported groups)",
    )
    item_attributes: dict[str, str] = Field(
        default_factory=dict,
        description="data-subject attribute name -> column holding it (for label audits)",
    )
    gold_columns: dict[str, str] = Field(
        default_factory=dict,
        description="answer field -> column holding its gold answer, for formats with no gold "
        "convention (MTurk): a record with one is a gold (test) question",
    )
    projects: dict[str, str] = Field(
        default_factory=dict,
        description="planning-tool exports (asana, jira): their project (Asana project name, "
        "Jira project key or name) -> 'PLATFORM:PROJECT_ID' of the Crowdmeter project",
    )


class TogglSettings(BaseModel):
    """How tracked time maps to platforms and to a freelancer's identity."""

    client_platform: dict[str, str] = Field(
        default_factory=dict, description="Toggl client name -> platform"
    )
    project_platform: dict[str, str] = Field(
        default_factory=dict, description="Toggl project name -> platform (wins over client)"
    )
    user_worker: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Toggl user -> the freelancer's ids as 'PLATFORM:RAW_ID', one per platform",
    )
    activity_keywords: dict[str, str] = Field(
        default_factory=lambda: {
            "qualif": "qualification",
            "training": "training",
            "onboarding": "training",
            "search": "searching",
            "admin": "admin",
            "invoice": "admin",
        },
        description="lower-case substring of a description or tag -> activity",
    )


class WorkerSettings(BaseModel):
    """What config.toml says about workers that their exports leave out."""

    country: dict[str, str] = Field(
        default_factory=dict,
        description="'PLATFORM:RAW_ID' -> ISO 3166-1 alpha-2 country, for workers whose exports "
        "give none (a freelancer names their own ids, so the wage-floor check knows the country)",
    )

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: dict[str, str]) -> dict[str, str]:
        checked = {}
        for worker, country in value.items():
            platform, _, raw_id = worker.partition(":")
            if not platform or not raw_id:
                raise ValueError(
                    f"[workers] country: {worker!r} must be 'PLATFORM:RAW_ID', as in "
                    '"mturk:A1B2C3D4E5" = "KE"'
                )
            if len(country) != 2 or not country.isalpha():
                raise ValueError(
                    f"[workers] country: {country!r} for {worker!r} is not a two-letter ISO "
                    "3166-1 country code (KE, PH, US...)"
                )
            checked[f"{platform.lower()}:{raw_id}"] = country.upper()
        return checked


class AgreementSettings(BaseModel):
    bootstrap_samples: int = Field(1000, ge=0, description="resamples over units for intervals")
    publish_bootstrap_samples: int = Field(
        200,
        ge=0,
        description="resamples over units for the intervals the Quality marts compute at every "
        "publish (fewer than on demand: publishing runs on every ingest)",
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="two-sided interval level")
    seed: int = Field(20181204, description="random seed for the bootstrap")
    span_overlap_threshold: float = Field(
        0.5, gt=0, le=1, description="character intersection over union at which two spans match"
    )
    box_iou_threshold: float = Field(0.5, gt=0, le=1, description="IoU at which two boxes match")
    levels: dict[str, str] = Field(
        default_factory=dict,
        description="'PLATFORM:PROJECT:FIELD' (`*` for any part) -> level of measurement "
        "(nominal, ordinal, interval, ratio); a field named by none gets the level its values "
        "suggest (docs/METRICS.md)",
    )
    min_units: int = Field(
        20, ge=1, description="coefficients over fewer pairable units are shown with a warning"
    )
    min_ratings: int = Field(
        50, ge=1, description="coefficients over fewer pairable ratings are shown with a warning"
    )

    @field_validator("levels")
    @classmethod
    def _check_levels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, level in value.items():
            parts = key.split(":", 2)
            if len(parts) != 3 or not all(parts):
                raise ValueError(
                    f"[agreement] levels: {key!r} must be 'PLATFORM:PROJECT:FIELD' (`*` for any "
                    'part), as in "toloka:42774177:relevance" = "ordinal"'
                )
            if level not in LEVELS:
                raise ValueError(
                    f"[agreement] levels: {level!r} for {key!r} is not a level; use one of "
                    f"{', '.join(LEVELS)}"
                )
        return value


class PaySettings(BaseModel):
    """Effective hourly pay: reference tables, wage-floor hours, the skip list."""

    fx_rates_file: Path | None = Field(
        None, description="CSV of exchange rates to load instead of the shipped etl/data table"
    )
    wage_floors_file: Path | None = Field(
        None, description="CSV of minimum wages to load instead of the shipped etl/data table"
    )
    hours_per_day: float = Field(
        8.0, gt=0, le=24, description="hours behind a daily wage floor when its row gives none"
    )
    hours_per_week: float = Field(
        40.0, gt=0, le=168, description="weekly hours behind a monthly floor (x 52/12) when none"
    )
    skip_below_wage: float = Field(
        0.0,
        ge=0,
        description="effective wage per hour (reporting currency) under which a task type goes "
        "on a worker's skip list; 0 = the wage floor of the worker's country",
    )
    skip_min_tasks: int = Field(5, ge=1, description="fewer tasks than this never list a task type")
    bootstrap_samples: int = Field(1000, ge=0, description="resamples over days for intervals")
    confidence: float = Field(0.9, gt=0, lt=1, description="two-sided interval level")
    seed: int = Field(20180421, description="random seed for the bootstrap")


class FairnessSettings(BaseModel):
    """How the fairness audits (metrics/fairness/) run at every publish."""

    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="attribute -> the group others are compared with (default: the largest "
        "group that stated an answer)",
    )
    intersection_min_group_size: int = Field(
        5, ge=1, description="two attributes are audited together when every cell has this many"
    )
    sensitive_task_types: list[str] = Field(
        default_factory=list, description="task types whose hours the workload audit counts"
    )
    bootstrap_samples: int = Field(200, ge=0, description="worker-level resamples for intervals")
    permutations: int = Field(500, ge=0, description="label shuffles for the p-values")
    confidence: float = Field(0.95, gt=0, lt=1, description="two-sided interval level")
    alpha: float = Field(0.05, gt=0, lt=1, description="Holm-adjusted p-value a flag must be under")
    seed: int = Field(20231013, description="random seed of resamples and shuffles")


class TrackingSettings(BaseModel):
    """Project tracking: the forecast, the fees a requester pays, the quality gate and alerts."""

    window_days: int = Field(
        42, ge=1, description="days of daily throughput (zero days included) the forecast resamples"
    )
    runs: int = Field(10_000, ge=100, description="Monte Carlo futures per forecast")
    seed: int = Field(20260301, description="random seed of the forecast, so it is reproducible")
    requester_fee_rate: dict[str, float] = Field(
        default_factory=lambda: {"mturk": 0.2},
        description="platform -> commission the requester pays on top of rewards and bonuses "
        "(MTurk: 20%), counted in a project's spend",
    )
    agreement_coefficient: str = Field(
        "fleiss_kappa",
        description="the weekly agreement coefficient checked against a project's agreement "
        "target (percent_agreement, fleiss_kappa or gwet_ac1)",
    )
    alerts: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"rule": "forecast_past_due"},
            {"rule": "quality_under_target"},
            {"rule": "budget_overrun", "tolerance": 0.0},
            {"rule": "reject_spike", "days": 7, "factor": 2.0, "min_rejects": 5},
            {"rule": "overwork", "max_hours": 48.0},
        ],
        description="alert rules (metrics.alerts.RULES) with their parameters; checked when "
        "they run (etl.tracking), so that reading the settings needs no Polars",
    )

    @field_validator("agreement_coefficient")
    @classmethod
    def _check_coefficient(cls, value: str) -> str:
        weekly = ("percent_agreement", "fleiss_kappa", "gwet_ac1")
        if value not in weekly:
            raise ValueError(
                f"[tracking] agreement_coefficient {value!r} is not computed weekly; use one "
                f"of {', '.join(weekly)}"
            )
        return value


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="address the dashboard listens on")
    port: int = Field(8050, ge=1, le=65535, description="port the dashboard listens on")
    workers: int = Field(3, ge=1, description="gunicorn worker processes for `crowdmeter serve`")
    session_secret: SecretStr | None = Field(
        None, description="signs login cookies; created in data_dir/secrets when unset"
    )
    session_hours: int = Field(12, ge=1, description="how long a login lasts")
    secure_cookies: bool = Field(
        False, description="send the login cookie over HTTPS only (deployments behind TLS)"
    )


class IngestLimits(BaseModel):
    """Bounds on the work one file may cause, so a hostile or broken file is refused quickly
    with a reason instead of holding the writer lock for minutes."""

    max_columns: int = Field(
        2_000, ge=10, description="a delimited file with more columns is refused"
    )
    max_field_chars: int = Field(
        1_000_000, ge=1_000, description="a record with a longer value is rejected"
    )
    earliest_time: date = Field(
        date(2000, 1, 1), description="records timed before this day are rejected"
    )
    future_days: int = Field(
        1, ge=0, description="records timed more than this many days after today are rejected"
    )


class ReaderSettings(BaseModel):
    threads: int = Field(2, ge=1, description="DuckDB threads per read-only snapshot connection")
    memory_limit: str = Field("1GB", description="DuckDB memory limit per snapshot connection")


class Settings(BaseSettings):
    """Every Crowdmeter setting, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="CROWDMETER_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Field(Path("data"), description="warehouse, snapshots, secrets and users")
    reporting_currency: str = Field("USD", description="currency every money figure is shown in")
    session_gap_minutes: float = Field(
        1.0, gt=0, description="assignments closer than this join one work session"
    )
    min_group_size: int = Field(5, ge=1, description="groups with fewer workers are suppressed")
    snapshots_keep: int = Field(3, ge=1, description="published snapshots kept on disk")
    etl_part_bytes: int = Field(
        96 << 20, ge=1, description="a big file is parsed and staged this many bytes at a time"
    )
    etl_memory_limit: str = Field(
        "1GB", description="DuckDB memory limit of the ETL writer (it spills to disk beyond)"
    )
    marts_memory_limit: str = Field(
        "256MB",
        description="DuckDB memory limit of the ETL writer during the marts' Python steps "
        "(etl/marts/, etl.warehouse.memory_for_python): their working data is then in "
        "Python's memory; their SQL steps keep etl_memory_limit",
    )
    etl_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="niceness the ETL process takes when it opens the warehouse, so ingest and "
        "publish yield the CPU to web workers (0 = unchanged)",
    )
    lock_timeout_seconds: float = Field(
        30.0, ge=0, description="how long a second ETL process waits for the writer lock"
    )
    pseudonym_key: SecretStr | None = Field(
        None, description="HMAC key for worker pseudonyms; created in data_dir/secrets when unset"
    )
    sources: dict[str, SourceSettings] = Field(
        default_factory=dict, description="per-platform import settings"
    )
    toggl: TogglSettings = Field(default_factory=TogglSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    agreement: AgreementSettings = Field(default_factory=AgreementSettings)
    pay: PaySettings = Field(default_factory=PaySettings)
    fairness: FairnessSettings = Field(default_factory=FairnessSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    limits: IngestLimits = Field(default_factory=IngestLimits)
    reader: ReaderSettings = Field(default_factory=ReaderSettings)
    pulls: list[Pull] = Field(
        default_factory=list, description="sources `crowdmeter pull` and the scheduler run"
    )

    @field_validator("pulls")
    @classmethod
    def _unique_pull_names(cls, value: list[Pull]) -> list[Pull]:
        names = [p.name for p in value]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"[[pulls]] names must be unique: {', '.join(twice)} repeated")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _CONFIG_FILE.get() or Path(os.environ.get("CROWDMETER_CONFIG", DEFAULT_CONFIG))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, file_secret_settings, toml)

    def source(self, platform: str) -> SourceSettings:
        """Import settings of one platform (defaults where config.toml has none)."""
        return self.sources.get(platform, SourceSettings())

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def pulls_dir(self) -> Path:
        """Staging files of HTTP pulls and the dashboard's run requests."""
        return self.data_dir / "pulls"

    def pull(self, name: str) -> Pull:
        for pull in self.pulls:
            if pull.name == name:
                return pull
        known = ", ".join(p.name for p in self.pulls) or "none in config.toml"
        raise KeyError(f"No pull source named {name!r} ({known}).")


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from a TOML file and overrides. The file is `config` if given, else the
    `config.toml` inside the `data_dir` override (a data folder's settings travel with its data,
    as the demo's do), else CROWDMETER_CONFIG, else the repo's config.toml."""
    if config is not None and not Path(config).is_file():
        raise FileNotFoundError(
            f"Config file {config} does not exist. Pass --config with a path to a TOML file "
            f"like the repository's config.toml."
        )
    data_dir = overrides.get("data_dir")
    if config is None and data_dir is not None and (Path(data_dir) / "config.toml").is_file():
        config = Path(data_dir) / "config.toml"
    secrets = os.environ.get("CROWDMETER_SECRETS_DIR") or None
    token = _CONFIG_FILE.set(Path(config) if config is not None else None)
    try:
        return Settings(
            _secrets_dir=secrets, **{k: v for k, v in overrides.items() if v is not None}
        )
    finally:
        _CONFIG_FILE.reset(token)
