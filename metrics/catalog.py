"""Every figure Crowdmeter shows, by name: its title, its family and the docs/METRICS.md section
that defines it (the help id behind a page's '?'). Plain data, cheap to import.

>>> CATALOG["gold_accuracy"].heading, CATALOG["gold_accuracy"].help_id
('Gold accuracy', 'quality')
>>> family("gwet_ac1"), CATALOG["gwet_ac1"].title
('prevalence-robust', "Gwet's AC1")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Level = Literal["nominal", "ordinal", "interval", "ratio"]
# Levels of measurement, as Krippendorff names them.
LEVELS: tuple[str, ...] = get_args(Level)

# The agreement coefficients every report has, in the order they are shown ...
COEFFICIENTS: tuple[str, ...] = (
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "brennan_prediger",
)
# ... and those reported besides them when the categories are ordered (level other than nominal).
ORDERED_COEFFICIENTS: tuple[str, ...] = ("cohen_kappa_linear", "cohen_kappa_quadratic", "gwet_ac2")
# Percent agreement is the only raw (not chance-corrected) coefficient.
RAW_COEFFICIENTS = frozenset({"percent_agreement"})

Family = Literal["raw", "chance-corrected", "prevalence-robust", ""]
# How coefficients are grouped side by side (docs/METRICS.md).
FAMILIES: tuple[str, ...] = ("raw", "chance-corrected", "prevalence-robust")


@dataclass(frozen=True)
class Metric:
    """One figure: `title` as it reads in running text, its family (coefficients only) and the
    slug of the docs/METRICS.md heading that defines it."""

    name: str
    title: str
    help_id: str
    family: Family = ""

    @property
    def heading(self) -> str:
        """The title as a card or column heading: first letter upper case."""
        return self.title[:1].upper() + self.title[1:]


def _metrics(*entries: Metric) -> dict[str, Metric]:
    return {m.name: m for m in entries}


AGREEMENT_HELP = "coefficients"
PAY_HELP = "sessions-and-effective-hourly-pay"
# fairness audits (metrics/fairness/): each figure's section of docs/METRICS.md
PAY_EQUITY_HELP, REVIEW_HELP, LABEL_BIAS_HELP = "pay-equity", "review-fairness", "label-bias"
WORKLOAD_HELP, SMALL_GROUPS_HELP = "workload", "small-groups"
FORECAST_HELP = "monte-carlo-forecast"
BUDGET_HELP = "budget-and-earned-value"

CATALOG: dict[str, Metric] = _metrics(
    # agreement coefficients (metrics/coefficients.py)
    Metric("percent_agreement", "percent agreement", AGREEMENT_HELP, "raw"),
    Metric("cohen_kappa", "Cohen's kappa (Conger)", AGREEMENT_HELP, "chance-corrected"),
    Metric(
        "cohen_kappa_linear", "Cohen's kappa, linear weights", AGREEMENT_HELP, "chance-corrected"
    ),  # fmt: skip
    Metric(
        "cohen_kappa_quadratic",
        "Cohen's kappa, quadratic weights",
        AGREEMENT_HELP,
        "chance-corrected",
    ),  # fmt: skip
    Metric("scott_pi", "Scott's pi", AGREEMENT_HELP, "chance-corrected"),
    Metric("fleiss_kappa", "Fleiss' kappa", AGREEMENT_HELP, "chance-corrected"),
    Metric("krippendorff_alpha", "Krippendorff's alpha", AGREEMENT_HELP, "chance-corrected"),
    Metric("gwet_ac1", "Gwet's AC1", AGREEMENT_HELP, "prevalence-robust"),
    Metric("gwet_ac2", "Gwet's AC2", AGREEMENT_HELP, "prevalence-robust"),
    Metric("brennan_prediger", "Brennan-Prediger", AGREEMENT_HELP, "prevalence-robust"),
    # agreement breakdowns and regions (metrics/breakdowns.py, metrics/regions.py)
    Metric("unit_agreement", "unit agreement", "breakdowns"),
    Metric("specific_agreement", "specific agreement", "breakdowns"),
    Metric("pairwise_agreement", "pairwise annotator agreement", "breakdowns"),
    Metric("region_agreement", "span and box F1", "spans-and-boxes"),
    # consensus (metrics/consensus.py)
    Metric("consensus_agreement", "agreement with consensus", "consensus"),
    Metric("dawid_skene_accuracy", "Dawid-Skene accuracy", "consensus"),
    Metric("consensus_confidence", "consensus label confidence", "consensus-labels"),
    # quality (metrics/quality.py)
    Metric("gold_accuracy", "gold accuracy", "quality"),
    Metric("rejection_rate", "review rejection rate", "quality"),
    Metric("class_error_rate", "class error rate", "quality"),
    # throughput (metrics/sessions.py)
    Metric("active_hours", "active time", "throughput"),
    Metric("tasks_per_active_hour", "tasks per active hour", "throughput"),
    Metric("median_seconds_per_task", "median seconds per task", "throughput"),
    # pay (metrics/pay.py, metrics/fairpay.py)
    Metric("effective_wage", "effective wage", PAY_HELP),
    Metric("paid_time_wage", "paid-time wage", PAY_HELP),
    Metric("net_earnings", "net earnings", PAY_HELP),
    Metric("pending_payout", "pending", PAY_HELP),
    Metric("payment_delay", "payment delay", PAY_HELP),
    Metric("share_below_floor", "share of hours below the wage floor", PAY_HELP),
    Metric("skip_list", "skip list", PAY_HELP),
    Metric("unattributed_time", "unattributed tracked time", PAY_HELP),
    # fairness audits: pay equity (metrics/fairness/pay_equity.py)
    Metric("median_wage", "median effective wage by group", PAY_EQUITY_HELP),
    Metric("mean_wage", "mean effective wage by group", PAY_EQUITY_HELP),
    Metric("median_ratio", "ratio of median wages", PAY_EQUITY_HELP),
    Metric("mean_ratio", "ratio of mean wages", PAY_EQUITY_HELP),
    Metric("median_gap", "median pay gap", PAY_EQUITY_HELP),
    Metric("mean_gap", "raw pay gap", PAY_EQUITY_HELP),
    Metric("adjusted_gap", "adjusted pay gap", PAY_EQUITY_HELP),
    # review fairness (metrics/fairness/review.py); by-group levels of `rejection_rate` too
    Metric("rejection_rate_difference", "rejection rate difference", REVIEW_HELP),
    Metric("rejection_rate_gold_correct", "rejection rate of gold-correct work", REVIEW_HELP),
    Metric(
        "rejection_rate_gold_correct_difference",
        "rejection rate difference on gold-correct work",
        REVIEW_HELP,
    ),
    # label bias (metrics/fairness/labels.py); each with _difference and _ratio (disparity)
    Metric("selection_rate", "selection rate", LABEL_BIAS_HELP),
    Metric("false_positive_rate", "false positive rate", LABEL_BIAS_HELP),
    Metric("false_negative_rate", "false negative rate", LABEL_BIAS_HELP),
    Metric("accuracy", "accuracy against gold", LABEL_BIAS_HELP),
    Metric("label_rate", "label rate by group", LABEL_BIAS_HELP),
    Metric("majority_agreement", "agreement with the majority", LABEL_BIAS_HELP),
    Metric("label_distribution", "label distribution by annotator group", LABEL_BIAS_HELP),
    # workload (metrics/fairness/workload.py); each with _difference
    Metric("average_weekly_hours", "average weekly hours", WORKLOAD_HELP),
    Metric("share_weeks_over_48h", "share of weeks over 48 hours", WORKLOAD_HELP),
    Metric("workers_over_48h", "workers with a week credibly over 48 hours", WORKLOAD_HELP),
    Metric("long_stretches_per_week", "stretches over 4 hours without a break", WORKLOAD_HELP),
    Metric("night_share", "share of night work", WORKLOAD_HELP),
    Metric("sensitive_hours_per_week", "hours on sensitive task types", WORKLOAD_HELP),
    # small groups (metrics/fairness/privacy.py)
    Metric("suppressed", "suppressed group", SMALL_GROUPS_HELP),
    # project tracking (metrics/burnup.py, forecast.py, budget.py, quality_gate.py,
    # workforce.py, alerts.py)
    Metric("scope", "scope", "burn-up"),
    Metric("burnup", "burn-up", "burn-up"),
    Metric("daily_throughput", "daily throughput", "burn-up"),
    Metric("weekly_throughput", "weekly throughput", "burn-up"),
    Metric("cycle_time", "cycle time", "cycle-time"),
    Metric("forecast_p50", "P50 completion date", FORECAST_HELP),
    Metric("forecast_p85", "P85 completion date", FORECAST_HELP),
    Metric("forecast_p95", "P95 completion date", FORECAST_HELP),
    Metric("milestone_probability", "milestone probability", FORECAST_HELP),
    Metric("spend_to_date", "spend to date", BUDGET_HELP),
    Metric("spend_rate", "spend rate", BUDGET_HELP),
    Metric("planned_value", "planned value", BUDGET_HELP),
    Metric("earned_value", "earned value", BUDGET_HELP),
    Metric("cpi", "CPI", BUDGET_HELP),
    Metric("spi", "SPI", BUDGET_HELP),
    Metric("eac", "estimate at completion", BUDGET_HELP),
    Metric("cost_per_unit", "cost per accepted unit", BUDGET_HELP),
    Metric("quality_gate", "quality gate", "quality-gate"),
    Metric("quality_trend", "quality trend", "quality-gate"),
    Metric("active_annotators", "active annotators", "workforce"),
    Metric("churn_rate", "churn", "workforce"),
    Metric("weekly_hours", "weekly hours", "workforce"),
    Metric("slowing", "slowing annotator", "workforce"),
    Metric("below_bar", "below the bar", "workforce"),
    Metric("alert", "alert", "alerts"),
)


def family(name: str) -> str:
    """A coefficient's family (raw, chance-corrected, prevalence-robust); "" otherwise."""
    metric = CATALOG.get(name)
    return metric.family if metric else ""
