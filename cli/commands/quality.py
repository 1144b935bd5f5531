"""`crowdmeter quality [PROJECT]`: agreement, gold accuracy and rejection rates per project, field
and annotator, read from the published snapshot.

The metrics import inside the functions that use them, so other commands start quickly.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cli.commands.agreement import format_coefficient
from cli.output import print_json
from etl.errors import UserError

if TYPE_CHECKING:
    from etl.reader import SnapshotReader
    from etl.settings import Settings

# One row per answer of submitted work (metrics.quality.gold_answers states the rule); unit =
# item within (platform, project, field).
ANSWERS_SQL = """
SELECT a.platform, a.project_id, n.field, a.item_id AS unit, a.worker_id AS coder,
       n.value, CAST(n.region AS VARCHAR) AS region,
       n.gold_value AS gold,
       n.ordinal::INTEGER AS ordinal,
       date_trunc('week', timezone('UTC', coalesce(a.submitted_at, a.started_at)))::DATE AS week
FROM assignments a JOIN annotations n USING (assignment_uid)
WHERE a.status IN ({answered}) {where}
"""

ASSIGNMENTS_SQL = """
SELECT a.platform, a.project_id, a.worker_id AS coder, a.status
FROM assignments a
WHERE true {where}
ORDER BY a.platform, a.project_id
"""

PROJECTS_SQL = """
SELECT DISTINCT a.platform, a.project_id, p.name
FROM assignments a LEFT JOIN projects p USING (platform, project_id)
ORDER BY a.platform, a.project_id
"""
# The text view lists the annotators who agree least with their peers first, this many.
TEXT_ANNOTATORS = 15


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "quality",
        help="agreement, gold accuracy and rejection rates from the warehouse",
        description=(
            "Quality figures from the published snapshot: agreement per project and field "
            "(with bootstrap intervals), gold accuracy and review rejection (Wilson intervals), "
            "per-class error rates, and per-annotator figures."
        ),
    )
    parser.add_argument(
        "project", nargs="?", metavar="PROJECT", help="project id, or PLATFORM:PROJECT_ID"
    )
    parser.add_argument("--platform", help="only this platform's projects")
    parser.add_argument(
        "--bootstrap", type=int, help="resamples for the intervals (default: settings; 0 = none)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reader import NoSnapshot, SnapshotReader

    reader = SnapshotReader(settings)
    try:
        payload = collect_quality(reader, settings, args.project, args.platform, args.bootstrap)
    except NoSnapshot as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(payload)
    else:
        print(render_quality(payload))
    return 0


def collect_quality(
    reader: SnapshotReader,
    settings: Settings,
    project: str | None = None,
    platform: str | None = None,
    bootstrap: int | None = None,
) -> dict[str, Any]:
    """The quality figures as plain data (what `--json` prints)."""
    from metrics.project_quality import project_quality
    from metrics.quality import ANSWERED

    where, params = _scope(reader, project, platform)
    answered = ", ".join(f"'{s}'" for s in ANSWERED)
    answers = reader.frame(ANSWERS_SQL.format(answered=answered, where=where), params)
    assignments = reader.frame(ASSIGNMENTS_SQL.format(where=where), params)
    agreement = settings.agreement
    samples = agreement.bootstrap_samples if bootstrap is None else max(bootstrap, 0)
    projects = project_quality(
        answers,
        assignments,
        bootstrap_samples=samples,
        confidence=agreement.confidence,
        seed=agreement.seed,
        span_threshold=agreement.span_overlap_threshold,
        box_threshold=agreement.box_iou_threshold,
        levels=agreement.levels,
    )
    for entry in projects:
        for field in entry["fields"]:
            flag_small_sample(field, agreement.min_units, agreement.min_ratings)
    names = {
        (r["platform"], r["project_id"]): r["name"] for r in reader.frame(PROJECTS_SQL).to_dicts()
    }
    for entry in projects:
        entry["name"] = names.get((entry["platform"], entry["project_id"]))
    return {
        "snapshot": reader.current_name(),
        "bootstrap_samples": samples,
        "confidence": agreement.confidence,
        "projects": projects,
    }


def flag_small_sample(field: dict[str, Any], min_units: int, min_ratings: int) -> None:
    """Mark a field whose agreement rests on fewer than `min_units` pairable units or
    `min_ratings` ratings: `small_sample` (true or false) and `small_sample_warning`."""
    from metrics.agreement import REGION_SAMPLE_NOUNS, small_sample_warning

    agreement = field.get("agreement")
    if agreement is None:
        return
    if field["kind"] == "regions":
        counts = (agreement["n_units"], agreement["n_regions"])
        warning = small_sample_warning(*counts, min_units, min_ratings, REGION_SAMPLE_NOUNS)
    else:
        counts = (agreement["n_pairable_units"], agreement["n_pairable_values"])
        warning = small_sample_warning(*counts, min_units, min_ratings)
    field["small_sample"] = warning is not None
    field["small_sample_warning"] = warning


def _scope(
    reader: SnapshotReader, project: str | None, platform: str | None
) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if project and ":" in project and not platform:
        platform, project = project.split(":", 1)
    if platform:
        clauses.append("a.platform = ?")
        params.append(platform)
    if project:
        clauses.append("a.project_id = ?")
        params.append(project)
    if params:
        _check_scope_exists(reader, project, platform)
    return "".join(f" AND {c}" for c in clauses), params


def _check_scope_exists(reader: SnapshotReader, project: str | None, platform: str | None) -> None:
    import polars as pl

    known = reader.frame(PROJECTS_SQL)
    match = known
    if platform:
        match = match.filter(pl.col("platform") == platform)
    if project:
        match = match.filter(pl.col("project_id") == project)
    if match.is_empty():
        listing = ", ".join(f"{p}:{i}" for p, i in known.select("platform", "project_id").rows())
        raise UserError(
            f"No assignments for {f'{platform}:' if platform else ''}{project or ''} in the "
            f"snapshot. Projects with assignments: {listing[:600] or 'none'}."
        )


def render_quality(payload: dict[str, Any]) -> str:
    """Readable text: per project, its review and gold figures, fields, then annotators."""
    if not payload["projects"]:
        return "No assignments in the snapshot yet."
    blocks = [_render_project(p) for p in payload["projects"]]
    return "\n\n".join(blocks)


def _render_project(p: dict[str, Any]) -> str:
    title = f"{p['platform']}:{p['project_id']}" + (f" ({p['name']})" if p.get("name") else "")
    lines = [
        title,
        f"  {p['n_assignments']} assignments by {p['n_annotators']} annotators",
        f"  review rejection  {_rate(p['review'], 'rejection_rate', 'n_reviewed')}",
        f"  gold accuracy     {_rate(p['gold'], 'accuracy', 'n_gold')}",
    ]
    for field in p["fields"]:
        lines.extend(_render_field(field))
    lines.extend(_render_annotators(p["annotators"]))
    return "\n".join(lines)


def _render_field(field: dict[str, Any]) -> list[str]:
    from metrics.agreement import Coefficient

    head = f"  field {field['field']!r} ({field['kind']})"
    if "skipped" in field:
        return [f"{head}: skipped, {field['skipped']}"]
    agreement = field["agreement"]
    warning = field.get("small_sample_warning")
    mark = "  (small sample)" if warning else ""
    caution = [f"    ! {warning}: read the figures with their intervals"] if warning else []
    if field["kind"] == "regions":
        f1 = agreement["f1"]
        shown = f"{f1:.4f}" if f1 is not None else f"undefined: {agreement['undefined_reason']}"
        return [f"{head}: pairwise F1 {shown} over {agreement['n_units']} units{mark}", *caution]
    level = f"level {field['level']} ({_level_source(field)})"
    lines = [
        f"{head}: {agreement['n_units']} units, {agreement['n_pairable_values']} pairable "
        f"ratings; {level}",
        *caution,
        f"    gold accuracy   {_rate(field['gold'], 'accuracy', 'n_gold')}",
    ]
    for name in ("percent_agreement", "cohen_kappa", "krippendorff_alpha", "gwet_ac1"):
        shown = format_coefficient(Coefficient(**agreement[name]))
        lines.append(f"    {name:<20}{shown}{mark if agreement[name]['value'] is not None else ''}")
    worst = sorted(
        (c for c in field["class_errors"] if c["error_rate"] is not None),
        key=lambda c: -c["error_rate"],
    )[:3]
    if worst:
        shown = ", ".join(f"{c['class']} {c['error_rate']:.1%}" for c in worst)
        lines.append(f"    highest class error rates ({field['error_source']}): {shown}")
    return lines


def _level_source(field: dict[str, Any]) -> str:
    if field.get("level_note"):
        return field["level_note"]
    if field["level_source"] == "configured":
        return "set in [agreement] levels"
    return "inferred from the values; set it in [agreement] levels"


def _render_annotators(annotators: list[dict[str, Any]]) -> list[str]:
    ranked = sorted(
        annotators,
        key=lambda a: (a.get("consensus_agreement") is None, a.get("consensus_agreement") or 0),
    )
    lines = [
        f"  annotators (lowest agreement with peers first, {min(len(ranked), TEXT_ANNOTATORS)} "
        f"of {len(ranked)}; --json for all)",
        f"    {'worker':<24}{'assign.':>8}  {'gold accuracy':<30}{'rejected':<30}{'peers':>7}",
    ]
    for a in ranked[:TEXT_ANNOTATORS]:
        gold = _rate(a, "gold_accuracy", "gold_n_gold")
        review = _rate(a, "review_rejection_rate", "review_n_reviewed")
        peers = a.get("consensus_agreement")
        lines.append(
            f"    {str(a['worker_id'])[:23]:<24}{a['n_assignments']:>8}  {gold:<30}{review:<30}"
            f"{'' if peers is None else f'{peers:.1%}':>7}"
        )
    return lines


def _rate(entry: dict[str, Any], key: str, count: str) -> str:
    prefix = key.split("_")[0] + "_" if key.startswith(("gold_", "review_")) else ""
    value = entry.get(key)
    if value is None:
        return "n/a"
    low, high = entry.get(f"{prefix}ci_low"), entry.get(f"{prefix}ci_high")
    ci = f" [{low:.1%}, {high:.1%}]" if low is not None and high is not None else ""
    return f"{value:.1%}{ci} of {entry.get(count)}"
