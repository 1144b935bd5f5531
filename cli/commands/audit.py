"""`crowdmeter audit`: the fairness findings of the published snapshot (`mart_fairness_findings`,
computed at publish), and `crowdmeter audit labels FILE`: label-bias error rates by group of
any long-format answers file, without the warehouse.

The metrics import inside the functions that use them, so other commands start quickly.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.commands.agreement import read_long_format
from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from etl.reader import SnapshotReader
    from etl.settings import Settings
    from metrics.fairness.findings import AuditSettings

# Flagged findings first (suppressed last), then in the mart's order.
FINDINGS_SQL = """
SELECT * FROM mart_fairness_findings WHERE (? IS NULL OR attribute = ?)
ORDER BY flag IS NULL, flag = 'suppressed', audit, attribute, measure, "group"
"""
LABEL_MEASURES = ("selection_rate", "false_positive_rate", "false_negative_rate", "accuracy")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "audit",
        help="fairness findings: pay equity, review fairness, label bias, workload",
        description=(
            "The fairness audits of the published snapshot, one finding per group and measure "
            "with its interval, adjusted p-value and flag; small groups suppressed. "
            "`audit labels FILE` audits a file of answers against gold instead."
        ),
    )
    parser.add_argument("--attribute", help="only the findings of this attribute")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)
    kinds = parser.add_subparsers(dest="audit_kind", metavar="labels")
    labels = kinds.add_parser(
        "labels",
        help="error rates by group of a long-format answers file",
        description=(
            "Per group of a long-format file (one row per answer; CSV, TSV, Parquet or JSONL): "
            "n, selection rate, false positive and false negative rates and accuracy against "
            "gold, each with its bootstrap interval over items, and the differences and ratios "
            "to the reference group with Holm-adjusted permutation p-values."
        ),
    )
    labels.add_argument("file", type=Path, metavar="FILE")
    labels.add_argument("--item", required=True, help="column naming the item (the unit)")
    labels.add_argument("--label", required=True, help="column holding the answer")
    labels.add_argument("--gold", required=True, help="column holding the gold answer")
    labels.add_argument("--group", required=True, help="column holding the group")
    labels.add_argument("--positive", help="the positive label (default: the second of two)")
    labels.add_argument("--reference", help="the reference group (default: the largest)")
    labels.add_argument("--json", action="store_true", help="print the table as JSON")
    labels.set_defaults(func=run_labels)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reader import NoSnapshot, SnapshotReader

    try:
        findings = read_findings(SnapshotReader(settings), args.attribute)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(findings)
    else:
        print(render_findings(findings))
    return 0


def read_findings(reader: SnapshotReader, attribute: str | None = None) -> list[dict[str, Any]]:
    """The findings of the published snapshot, flagged first, as `--json` prints them."""
    import duckdb

    try:
        rows = reader.frame(FINDINGS_SQL, [attribute, attribute]).to_dicts()
    except duckdb.CatalogException:
        raise UserError(
            "The published snapshot has no fairness findings yet: they are computed when a run "
            "publishes. Run `crowdmeter ingest` (or wait for the running one to finish)."
        ) from None
    if attribute is not None and not rows:
        known = reader.frame("SELECT DISTINCT attribute FROM mart_fairness_findings ORDER BY 1")
        raise UserError(
            f"No findings for attribute {attribute!r}. Attributes audited: "
            f"{', '.join(known['attribute']) or 'none (no worker or item has attributes)'}."
        )
    return rows


def render_findings(findings: list[dict[str, Any]]) -> str:
    """One line per finding: its flag, audit and attribute, then its one-line reason."""
    if not findings:
        return "No findings: no worker or item in the warehouse has attributes to audit by."
    flagged = sum(f["flag"] not in (None, "suppressed") for f in findings)
    suppressed = sum(f["flag"] == "suppressed" for f in findings)
    lines = [f"{len(findings)} findings: {flagged} flagged, {suppressed} suppressed", ""]
    for f in findings:
        lines.append(f"{f['flag'] or '-':<26} {f['audit']:<16} {f['attribute']:<18} {f['reason']}")
    return "\n".join(lines)


def run_labels(args: argparse.Namespace, settings: Settings) -> int:
    from etl.marts.fairness import audit_settings

    answers = read_answers(args)
    table = label_table(answers, args.group, args.positive, args.reference, settings,
                        audit_settings(settings))  # fmt: skip
    payload = {"file": str(args.file), "group_column": args.group, **table}
    if args.json:
        print_json(payload)
    else:
        print(render_label_table(payload))
    return 0


def read_answers(args: argparse.Namespace) -> pl.DataFrame:
    """The file's answers as `item_id`, `value`, `gold` and the group column, all text."""
    import polars as pl

    columns = {"item": args.item, "label": args.label, "gold": args.gold, "group": args.group}
    frame = read_long_format(args.file, text_columns=list(columns.values()))
    missing = [f"{col!r} (--{flag})" for flag, col in columns.items() if col not in frame.columns]
    if missing:
        raise UserError(
            f"{args.file} has no column {', '.join(missing)}. Columns present: "
            f"{', '.join(frame.columns)}."
        )
    return frame.select(
        pl.col(args.item).cast(pl.String).alias("item_id"),
        pl.col(args.label).cast(pl.String).alias("value"),
        pl.col(args.gold).cast(pl.String).alias("gold"),
        pl.col(args.group).cast(pl.String),
    )


def label_table(
    answers: pl.DataFrame,
    group: str,
    positive: str | None,
    reference: str | None,
    settings: Settings,
    audit: AuditSettings,
) -> dict[str, Any]:
    """Error rates by group as rows of `group_table`, with the positive label and reference."""
    from metrics.fairness.findings import group_table
    from metrics.fairness.labels import error_rates

    try:
        found = error_rates(answers, group, positive, reference, settings=audit)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    reference = next((f.reference for f in found if f.reference), reference)
    rows = group_table(found).drop("audit", "attribute").to_dicts()
    if positive is None:
        labels = sorted(set(answers["value"].drop_nulls()) | set(answers["gold"].drop_nulls()))
        positive = labels[-1]
    return {
        "positive": positive,
        "reference": reference,
        "min_group_size": settings.min_group_size,
        "groups": rows,
        "findings": [asdict(f) for f in found],
    }


def render_label_table(payload: dict[str, Any]) -> str:
    """Per group: n, then each rate with its interval, and its ratio to the reference."""
    lines = [
        f"{payload['file']}: error rates by {payload['group_column']}, positive label "
        f"{payload['positive']!r}, reference group {payload['reference']!r}",
        "",
        f"{'group':<20} {'n':>6}  " + "  ".join(f"{m:<30}" for m in LABEL_MEASURES),
    ]
    for row in payload["groups"]:
        cells = []
        for m in LABEL_MEASURES:
            value, ratio = row.get(m), row.get(f"{m}_ratio")
            text = "suppressed" if row["n"] is None else (
                f"{_figure(value)} [{_figure(row.get(f'{m}_ci_low'))}, "
                f"{_figure(row.get(f'{m}_ci_high'))}]"
            )  # fmt: skip
            cells.append(text + (f" x{ratio:.2f}" if ratio is not None else ""))
        n = "-" if row["n"] is None else str(row["n"])
        lines.append(f"{row['group']:<20} {n:>6}  " + "  ".join(f"{c:<30}" for c in cells))
    return "\n".join(lines)


def _figure(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"
