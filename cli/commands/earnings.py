"""`crowdmeter earnings`: paid-time and effective hourly wage with the waterfall between them,
hours, tasks, payment delays, pending money, the fair-pay check and a skip list.

Reads the published snapshot; `--worker PLATFORM:ID` takes the id as the platform shows it and
looks up its pseudonym, so a freelancer sees their own work across platforms.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from etl.reader import SnapshotReader
    from etl.settings import Settings

GROUPINGS = {"platform": ["platform"], "task_type": ["platform", "task_type"], "week": ["week"]}
FOUND_SQL = """
SELECT DISTINCT worker_id FROM (
    SELECT worker_id FROM assignments UNION ALL SELECT worker_id FROM earnings
    UNION ALL SELECT worker_id FROM time_entries
) WHERE list_contains(?, worker_id)
"""
UNATTRIBUTED_SQL = """
SELECT count(*)::BIGINT AS entries, coalesce(sum(seconds), 0) / 3600 AS hours
FROM time_entries WHERE platform IS NULL
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "earnings",
        help="effective hourly wage and its waterfall",
        description=(
            "What work really paid per hour: the paid-time wage (earnings / hours of approved "
            "work), the effective wage (earnings / all hours worked: rejected and returned "
            "work, gaps between tasks, tracked unpaid time), the steps between them, payment "
            "delays, money still pending, hours paid below the local wage floor, and task "
            "types to skip. Money is in the reporting currency, after the fees workers pay."
        ),
    )
    add_worker_option(parser)
    parser.add_argument(
        "--by",
        action="append",
        choices=sorted(GROUPINGS),
        help="one row per platform (default), per task type or per week; repeat to combine",
    )
    parser.add_argument(
        "--skip-below",
        type=float,
        metavar="WAGE",
        help="list task types paying less than this per hour (default: settings, else the "
        "wage floor of the worker's country)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def add_worker_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--worker",
        action="append",
        metavar="PLATFORM:ID",
        help="a worker id as the platform shows it, e.g. mturk:A1B2C3D4E5; repeat for each "
        "platform",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    by = grouping(args.by)
    try:
        payload = collect_earnings(reader, settings, args.worker, by, args.skip_below)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(payload)
    else:
        print(render_earnings(payload))
    return 0


def grouping(choices: list[str] | None) -> list[str]:
    """Ledger columns for the `--by` choices, in a stable order, platform first."""
    wanted = {c for choice in choices or ["platform"] for c in GROUPINGS[choice]}
    return [c for c in ("platform", "task_type", "week") if c in wanted]


def worker_pseudonyms(settings: Settings, workers: list[str]) -> dict[str, str]:
    """`PLATFORM:ID` -> pseudonym; a malformed value is a user error naming the fix."""
    from etl.pseudonym import pseudonym_key, pseudonymise

    key = pseudonym_key(settings)
    found = {}
    for value in workers:
        platform, sep, raw_id = value.partition(":")
        if not sep or not platform or not raw_id:
            raise UserError(
                f"--worker {value!r} is not PLATFORM:ID. Give the platform and your id on it, "
                "e.g. --worker mturk:A1B2C3D4E5 --worker toloka:0123abcd."
            )
        found[value] = pseudonymise(platform.strip().lower(), raw_id.strip(), key)
    return found


def collect_earnings(
    reader: SnapshotReader,
    settings: Settings,
    workers: list[str] | None,
    by: list[str],
    skip_below: float | None = None,
    views: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Everything `earnings` shows, as plain data (also the content of the HTML report).

    `views` asks for more groupings of the same rows (name -> columns), under "views".
    """
    from etl.pay import (
        floor_check,
        ledger_for,
        read_pay_inputs,
        with_delays,
        without_unpriceable,
        worker_skip_list,
    )
    from metrics.pay import (
        payment_delays,
        summarise_wages,
        unattributed_by_worker,
        wages_across_workers,
    )

    chosen = worker_pseudonyms(settings, workers) if workers else None
    if chosen is not None:
        _check_found(reader, chosen)
    ids = None if chosen is None else sorted(set(chosen.values()))
    inputs, notes = without_unpriceable(
        read_pay_inputs(reader.frame, ids), settings.reporting_currency
    )
    ledger = ledger_for(inputs, settings)

    def wage_rows(columns: list[str]) -> list[dict[str, Any]]:
        grouped = with_delays(summarise_wages(ledger, columns), inputs, columns)
        return [wage_row(r, columns) for r in grouped.iter_rows(named=True)]

    total = summarise_wages(ledger, []).hstack(
        payment_delays(inputs.assignments, inputs.earnings, [])
    )
    fairpay = floor_check(ledger, inputs, settings)
    payload: dict[str, Any] = {
        "snapshot": reader.current_name(),
        "currency": settings.reporting_currency,
        "session_gap_minutes": settings.session_gap_minutes,
        "by": by,
        "workers": [{"worker": w, "pseudonym": p} for w, p in (chosen or {}).items()],
        "rows": wage_rows(by),
        "total": wage_row(total.row(0, named=True), []) if total.height else None,
        "notes": notes,
        "views": {name: wage_rows(columns) for name, columns in (views or {}).items()},
    }
    unattributed = unattributed_by_worker(inputs.time_entries)
    payload["unattributed"] = {
        "entries": int(unattributed.get_column("entries").sum()),
        "hours": float(unattributed.get_column("hours").sum()),
    }
    payload["unattributed_total"] = reader.frame(UNATTRIBUTED_SQL).row(0, named=True)
    if chosen is not None:
        payload["fair_pay"] = fairpay.drop("worker_id").to_dicts()
        skip = worker_skip_list(ledger, fairpay, settings, skip_below)
        payload["skip_list"] = skip.drop("worker_id").to_dicts()
    else:
        spread = wages_across_workers(ledger, by)
        payload["across_workers"] = _suppressed(spread, settings.min_group_size).to_dicts()
        payload["fair_pay"] = _fair_pay_summary(fairpay)
    return payload


def _check_found(reader: SnapshotReader, chosen: dict[str, str]) -> None:
    found = set(reader.frame(FOUND_SQL, [list(chosen.values())]).get_column("worker_id"))
    missing = [w for w, p in chosen.items() if p not in found]
    if missing:
        raise UserError(
            f"No work of {', '.join(missing)} in the published snapshot. Check the id as the "
            "platform shows it (it is case-sensitive) and that its files are ingested "
            "(`crowdmeter status`)."
        )


def _suppressed(spread: pl.DataFrame, min_group_size: int) -> pl.DataFrame:
    """Group figures with fewer than `min_group_size` workers behind them are blanked."""
    import polars as pl

    small = pl.col("workers") < min_group_size
    return spread.with_columns(
        pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
        for c in spread.columns
        if c.startswith(("median_", "mean_", "pooled_"))
    ).with_columns(suppressed=small)


def _fair_pay_summary(fairpay: pl.DataFrame) -> list[dict[str, Any]]:
    import polars as pl

    checked = fairpay.filter(pl.col("share_below_floor").is_not_null())
    return (
        checked.group_by("platform")
        .agg(
            workers_checked=pl.len(),
            workers_with_hours_below_floor=(pl.col("hours_below_floor") > 0).sum(),
            median_share_below_floor=pl.col("share_below_floor").median(),
            hours_below_floor=pl.col("hours_below_floor").sum(),
        )
        .sort("platform")
        .to_dicts()
    )


def wage_row(row: dict[str, Any], by: list[str]) -> dict[str, Any]:
    """One group's figures, nested as the JSON output shows them."""
    from metrics.pay import WATERFALL

    hours = {k.removesuffix("_hours"): row[k] for k in row if k.endswith("_hours")}
    hours["worked"] = row["hours_worked"]
    return {
        **{b: row[b] for b in by},
        "workers": row["workers"],
        "gross_paid_time_wage": row["gross_paid_time_wage"],
        "paid_time_wage": row["paid_time_wage"],
        "effective_wage": row["effective_wage"],
        "waterfall": [{"step": step, "change": row[f"step_{step}"]} for step, _ in WATERFALL],
        "hours": hours,
        "tasks": {k.removeprefix("tasks_"): row[k] for k in row if k.startswith("tasks_")},
        "money": {
            k: row[k]
            for k in (
                "gross_earnings",
                "fees",
                "net_earnings",
                "pending_payout",
                "pending_review",
                "untimed_earnings",
            )
        },  # fmt: skip
        "delays": {
            k: row.get(k)
            for k in (
                "paid",
                "median_delay_days",
                "p90_delay_days",
                "unpaid_earned",
                "oldest_unpaid_days",
            )
        },  # fmt: skip
    }


def render_earnings(payload: dict[str, Any]) -> str:
    """The text view: one line per row, then the waterfall of the total and the checks."""
    cur = payload["currency"]
    lines = [f"Earnings in {cur} per hour, after fees (snapshot {payload['snapshot']})", ""]
    head = ["/".join(payload["by"]), "hours", "paid-time", "effective", "tasks", "delay p50/p90 d"]
    table = [head]
    for row in payload["rows"]:
        label = " ".join(str(row[b]) for b in payload["by"])
        table.append(_text_cells(label, row))
    if payload["total"]:
        table.append(_text_cells("all", payload["total"]))
    lines += _aligned(table)
    if payload["total"]:
        lines += ["", "From paid-time to effective wage (all rows):"]
        total = payload["total"]
        lines.append(f"  {'paid-time wage before fees':32} {_money(total['gross_paid_time_wage'])}")
        for step in total["waterfall"]:
            lines.append(f"  {step['step'].replace('_', ' '):32} {_signed(step['change'])}")
        lines.append(f"  {'effective wage':32} {_money(total['effective_wage'])}")
        money = total["money"]
        lines.append(
            f"\nPending: {_money(money['pending_payout'])} {cur} approved but unpaid, "
            f"{_money(money['pending_review'])} {cur} awaiting review."
        )
    lines += _checks_text(payload)
    return "\n".join(lines)


def _checks_text(payload: dict[str, Any]) -> list[str]:
    lines = []
    un = payload["unattributed"]
    if un["entries"]:
        lines.append(
            f"Unattributed tracked time: {un['entries']} entries, {un['hours']:.1f} h map to no "
            "platform; add their clients or projects to [toggl] in config.toml."
        )
    for row in payload.get("fair_pay", []):
        if row.get("share_below_floor") is not None and "country" in row:
            lines.append(
                f"{row['platform']}: {row['share_below_floor']:.0%} of hours paid below the "
                f"{row['country']} wage floor ({_money(row['floor_per_hour'])} per hour)."
            )
    for row in payload.get("skip_list", []):
        sure = "confidently" if row["confidently_below"] else "possibly"
        lines.append(
            f"Skip? {row['platform']} {row['kind']} {row['name']}: "
            f"{_money(row['effective_wage'])} per hour over {row['tasks']} tasks, {sure} below "
            f"{_money(row['threshold'])} (interval {_money(row['ci_low'])}-"
            f"{_money(row['ci_high'])})."
        )
    lines += payload["notes"]
    return ["", *lines] if lines else []


def _text_cells(label: str, row: dict[str, Any]) -> list[str]:
    delays = row["delays"]
    tasks = row["tasks"]
    return [
        label,
        f"{row['hours']['worked']:.1f}",
        _money(row["paid_time_wage"]),
        _money(row["effective_wage"]),
        str(tasks["approved"] + tasks["rejected"] + tasks["returned"] + tasks["pending"]),
        f"{_days(delays['median_delay_days'])}/{_days(delays['p90_delay_days'])}",
    ]


def _aligned(table: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths, strict=True))) for r in table]  # fmt: skip


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
