"""The scheduler process: every `[[pulls]]` source on its schedule, one run at a time.

APScheduler 3 runs the sources in a single worker thread, so runs never overlap inside the
process, and each run takes the warehouse's writer lock, so they never overlap with another
ETL process either. A source's job coalesces missed runs into one, never has two instances,
and still runs when it is late by less than its `misfire_grace_seconds`. Each source runs once
at start, then on its schedule. The dashboard asks for a run now by writing a request file
(`etl.pulls.requests`); the scheduler looks for them every `REQUEST_POLL_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from etl.pull_settings import Pull
from etl.pulls.requests import take_requests
from etl.pulls.run import run_pull
from etl.settings import Settings

log = logging.getLogger("crowdmeter.scheduler")

REQUEST_POLL_SECONDS = 2.0


def trigger_of(pull: Pull) -> BaseTrigger:
    """The APScheduler trigger of a source's `every` or `cron` (cron in UTC)."""
    if pull.every_seconds is not None:
        return IntervalTrigger(seconds=pull.every_seconds, timezone=UTC)
    return CronTrigger.from_crontab(pull.cron, timezone=UTC)


class PullScheduler:
    """The sources' jobs in a background scheduler; `run_until(stop)` blocks until `stop` is
    set, then waits for a run in progress to end."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.triggers = {pull.name: trigger_of(pull) for pull in settings.pulls}
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(max_workers=1),
                "requests": ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        now = datetime.now(UTC)
        for pull in settings.pulls:
            self.scheduler.add_job(
                self.run_source,
                self.triggers[pull.name],
                args=[pull],
                id=pull.name,
                misfire_grace_time=pull.misfire_grace_seconds,
                next_run_time=now,
            )
        self.scheduler.add_job(
            self.take_requests,
            IntervalTrigger(seconds=REQUEST_POLL_SECONDS, timezone=UTC),
            id="run-requests",
            executor="requests",
        )

    def run_source(self, pull: Pull) -> None:
        """One run of `pull`, logged; a failure is logged and recorded, never raised."""
        next_run = self.triggers[pull.name].get_next_fire_time(None, datetime.now(UTC))
        started = datetime.now(UTC)
        fields = {"pull": pull.name, "kind": pull.kind}
        log.info("pull started", extra={**fields, "event": "pull.started"})
        try:
            outcome = run_pull(self.settings, pull, next_run)
        except Exception as exc:  # the warehouse busy, a publish failing: the next run retries
            log.exception(
                "pull could not finish: %s", exc, extra={**fields, "event": "pull.crashed"}
            )
            return
        log.log(
            logging.WARNING if outcome.result == "failed" else logging.INFO,
            "pull finished: %s",
            outcome.result,
            extra={
                **fields,
                "event": "pull.finished",
                "result": outcome.result,
                "run_id": outcome.run_id,
                "files": outcome.files_loaded,
                "rows": outcome.rows_loaded,
                "error": outcome.error,
                "notes": outcome.notes,
                "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
                "next_run_at": next_run,
            },
        )

    def take_requests(self) -> None:
        """Queue a run of every source the dashboard asked for, once per request file."""
        for name in take_requests(self.settings):
            if name not in self.triggers:
                log.warning("run requested for an unknown source", extra={"pull": name})
                continue
            log.info("run requested", extra={"pull": name, "event": "pull.requested"})
            self.scheduler.add_job(
                self.run_source,
                args=[self.settings.pull(name)],
                id=f"{name}-requested",
                replace_existing=True,
            )

    def run_until(self, stop: threading.Event) -> None:
        self.scheduler.start()
        log.info(
            "scheduler started",
            extra={"event": "scheduler.started", "pulls": sorted(self.triggers)},
        )
        stop.wait()
        log.info("scheduler stopping", extra={"event": "scheduler.stopping"})
        self.scheduler.shutdown(wait=True)
        log.info("scheduler stopped", extra={"event": "scheduler.stopped"})
