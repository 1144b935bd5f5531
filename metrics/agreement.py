"""Inter-annotator agreement of long-format ratings (`unit`, `coder`, `value`): the public entry.

Ratings are encoded and tallied per unit (`metrics.ratings`); each coefficient is one function
of per-unit sums (`metrics.coefficients`, `metrics.unit_sums`), so bootstrap intervals over units
(`metrics.resampling`) reweight those sums. Definitions and sources: docs/METRICS.md.

>>> import polars as pl
>>> frame = pl.DataFrame({
...     "unit": ["u1", "u1", "u2", "u2", "u3", "u3", "u4"],
...     "coder": ["a", "b", "a", "b", "a", "b", "a"],
...     "value": ["yes", "yes", "no", "no", "yes", "no", "yes"],
... })
>>> table = agreement_table(frame)
>>> round(table["percent_agreement"].value, 4), round(table["cohen_kappa"].value, 4)
(0.6667, 0.4)
>>> only_yes = agreement_table(frame.filter(pl.col("value") == "yes"))
>>> only_yes["fleiss_kappa"].undefined_reason.split(":")[0]
"every rating is in one category ('yes')"
>>> only_yes["percent_agreement"].value
1.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from metrics.breakdowns import (
    TwoCoderKappa,
    category_agreement,
    contingency_table,
    pairwise_agreement,
    two_coder_kappa,
    unit_agreement,
)
from metrics.catalog import (
    COEFFICIENTS,
    LEVELS,
    ORDERED_COEFFICIENTS,
    RAW_COEFFICIENTS,
    Level,
)
from metrics.coefficients import (
    LEVEL_WEIGHTS,
    agreement_weights,
    alpha_distances,
    alpha_from_coincidences,
    coefficient_values,
    nominal_alpha,
)
from metrics.ratings import (
    DENSE_TALLY_CELLS,
    Ratings,
    SingleRated,
    UnitTallies,
    analysed_positions,
    category_codes,
    check_level,
    coincidence_matrix,
    dense_codes,
    encode_ratings,
    hash_groups,
    plain,
    rated_rows,
    tally_units,
    unit_tallies,
)
from metrics.resampling import percentile_interval
from metrics.unit_sums import UnitSums, unit_patterns, unit_sums

# What callers import from here: the entry points below and the pieces they are built from.
__all__ = [
    "COEFFICIENTS", "DENSE_TALLY_CELLS", "LEVELS", "LEVEL_WEIGHTS", "NO_PAIRABLE_UNITS",
    "ORDERED_COEFFICIENTS", "RAW_COEFFICIENTS", "REGION_SAMPLE_NOUNS", "AgreementReport",
    "Coefficient", "Level", "Ratings", "SingleRated", "TwoCoderKappa", "UnitTallies",
    "agreement_by", "agreement_report", "agreement_table", "agreement_weights",
    "small_sample_warning", "alpha_distances", "alpha_from_coincidences",
    "analysed_positions", "category_agreement", "category_codes", "check_level",
    "coincidence_matrix", "contingency_table", "dense_codes", "encode_ratings", "hash_groups",
    "krippendorff_alpha", "pairwise_agreement", "plain", "rated_rows", "tally_units",
    "two_coder_kappa", "unit_agreement", "unit_patterns", "unit_tallies",
]  # fmt: skip

# The names these helpers had when they lived here (tests reach for them).
_coefficient_values = coefficient_values
_unit_sums = unit_sums

NO_PAIRABLE_UNITS = "no unit has two or more ratings, so there is nothing to compare"


@dataclass(frozen=True)
class Coefficient:
    """One agreement figure: its value and bootstrap interval, or why it is undefined."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    undefined_reason: str | None = None
    # (p_o - p_e) / (1 - p_e): the two terms, where the coefficient has that form
    observed_agreement: float | None = None
    chance_agreement: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The `agreement --json` shape; `undefined_reason` only when undefined."""
        out = asdict(self)
        if self.undefined_reason is None:
            out.pop("undefined_reason")
        return out


@dataclass(frozen=True)
class AgreementReport:
    """All coefficients for one set of ratings, with the counts behind them."""

    level: str
    n_units: int
    n_coders: int
    n_values: int
    n_pairable_units: int
    n_pairable_values: int
    categories: list[Any]
    coefficients: dict[str, Coefficient]
    bootstrap_samples: int = 0
    confidence: float = 0.95

    def as_dict(self) -> dict[str, Any]:
        """The `crowdmeter agreement --json` payload."""
        out: dict[str, Any] = {
            k: v for k, v in asdict(self).items() if k not in ("coefficients", "categories")
        }
        out["categories"] = [plain(c) for c in self.categories]
        out.update({name: coef.as_dict() for name, coef in self.coefficients.items()})
        return out


# ---------------------------------------------------------------------------------------------
# The public entry points. They pass DENSE_TALLY_CELLS on to every tally they make, so the
# threshold read here (or a test's patch of it) picks the dense or sparse path of a whole report.


def agreement_report(
    frame: pl.DataFrame | Ratings,
    level: str = "nominal",
    *,
    categories: list[Any] | None = None,
    bootstrap_samples: int = 0,
    confidence: float = 0.95,
    seed: int = 20181204,
    single_rated: SingleRated = "ignore",
    coefficients: tuple[str, ...] | None = None,
) -> AgreementReport:
    """Every agreement coefficient for long-format ratings, with bootstrap intervals over units.

    `frame` has columns `unit`, `coder`, `value` (or is already encoded). Units with one rating
    are unpairable: ignored (`single_rated="ignore"`), or counted only in the chance marginals of
    Fleiss, Scott, Gwet and Cohen/Conger (`"chance"`, Gwet's convention, as irrCAC reports).
    With `bootstrap_samples` > 0 each coefficient gets a percentile interval from resampling
    units with replacement.
    """
    ratings = frame if isinstance(frame, Ratings) else encode_ratings(frame, level, categories)
    names = list(coefficients or _default_coefficients(ratings.level))
    t = unit_tallies(ratings, single_rated, DENSE_TALLY_CELLS)
    pairable = t.pairable
    n_pairable_values = int(t.ratings[pairable].sum())
    reasons = _undefined_reasons(t, ratings, names)
    if len(reasons) == len(names):  # nothing to compute (no pairable units)
        point, intervals = {}, {}
    else:
        sums = unit_sums(t, ratings, set(names))
        point = coefficient_values(sums.totals(), names, ratings)
        intervals = _bootstrap(sums, ratings, names, bootstrap_samples, confidence, seed, reasons)
    result = {}
    for name in names:
        value, p_o, p_e = (_finite_or_none(part[0]) for part in point.get(name, _NOTHING))
        reason = reasons.get(name) or (None if value is not None else _zero_denominator(name))
        if reason:
            result[name] = Coefficient(None, undefined_reason=reason, observed_agreement=p_o)
            continue
        low, high = intervals.get(name, (None, None))
        result[name] = Coefficient(value, low, high, None, p_o, p_e)
    return AgreementReport(
        level=ratings.level,
        n_units=ratings.n_units,
        n_coders=ratings.n_coders,
        n_values=len(ratings.unit),
        n_pairable_units=int(pairable.sum()),
        n_pairable_values=n_pairable_values,
        categories=ratings.categories,
        coefficients=result,
        bootstrap_samples=bootstrap_samples,
        confidence=confidence,
    )


def agreement_table(
    frame: pl.DataFrame | Ratings, level: str = "nominal", **options: Any
) -> dict[str, Coefficient]:
    """Coefficient name -> Coefficient; the options are those of `agreement_report`."""
    return agreement_report(frame, level, **options).coefficients


def krippendorff_alpha(
    frame: pl.DataFrame | Ratings, level: str = "nominal", categories: list[Any] | None = None
) -> Coefficient:
    """Krippendorff's alpha alone, on a lean path: it reads only `unit` and `value` (coder
    identity does not enter alpha) and gets the coincidences as one sparse product.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                       "value": [1, 1, 2, 2, 3, 2]})
    >>> round(krippendorff_alpha(frame, "interval").value, 4)
    0.7059
    """
    if isinstance(frame, Ratings):
        unit, n_units = frame.unit, frame.n_units
        category, labels, scores = frame.category, frame.categories, frame.scores
    else:
        check_level(level)
        rated = rated_rows(frame, ["unit"], "value")
        unit, found = dense_codes(rated["unit"], with_ids=False)
        n_units = found if isinstance(found, int) else len(found)
        category, labels, scores = category_codes(rated["value"], level, categories)
        del rated
    t = tally_units(unit, category, n_units, len(labels), "ignore", DENSE_TALLY_CELLS)
    if t.n_units == 0:
        return Coefficient(None, undefined_reason=NO_PAIRABLE_UNITS)
    single = _single_category(t, labels)
    if single:
        return Coefficient(None, undefined_reason=single)
    level = frame.level if isinstance(frame, Ratings) else level
    if level == "nominal":
        value = nominal_alpha(t)
    else:
        value = float(
            alpha_from_coincidences(coincidence_matrix(t, DENSE_TALLY_CELLS), scores, level)
        )
    if not np.isfinite(value):
        return Coefficient(None, undefined_reason=_zero_denominator("krippendorff_alpha"))
    return Coefficient(value)


def _default_coefficients(level: str) -> tuple[str, ...]:
    return COEFFICIENTS + (ORDERED_COEFFICIENTS if level != "nominal" else ())


def _undefined_reasons(t: UnitTallies, ratings: Ratings, names: list[str]) -> dict[str, str]:
    if not t.pairable.any():
        return dict.fromkeys(names, NO_PAIRABLE_UNITS)
    single = _single_category(t, ratings.categories)
    if single:
        return {name: single for name in names if name not in RAW_COEFFICIENTS}
    return {}


def _single_category(t: UnitTallies, categories: list[Any]) -> str | None:
    used = np.flatnonzero(np.bincount(t.cell_category, minlength=t.n_categories))
    if len(used) == 1:
        only = plain(categories[int(used[0])])
        return (
            f"every rating is in one category ({only!r}): agreement expected by chance is "
            "total, so chance-corrected agreement is undefined"
        )
    return None


def _zero_denominator(name: str) -> str:
    if name.startswith("cohen_kappa"):
        return "fewer than two coders have ratings on pairable units"
    return "agreement expected by chance is total (zero denominator), so it is undefined"


def _bootstrap(
    sums: UnitSums,
    ratings: Ratings,
    names: list[str],
    samples: int,
    confidence: float,
    seed: int,
    reasons: dict[str, str],
) -> dict[str, tuple[float | None, float | None]]:
    wanted = [n for n in names if n not in reasons]
    if samples <= 0 or not wanted:
        return {}
    draws: dict[str, list[np.ndarray]] = {n: [] for n in wanted}
    for totals in sums.resampled_totals(samples, seed):
        values = coefficient_values(totals, wanted, ratings)
        for n in wanted:
            draws[n].append(values[n][0])
    return {n: percentile_interval(np.concatenate(draws[n]), confidence) for n in wanted}


_NOTHING = (np.array([np.nan]),) * 3


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def agreement_by(
    frame: pl.DataFrame, by: list[str], level: str = "nominal", **options: Any
) -> pl.DataFrame:
    """Agreement per group (project, field, week...): one row per group and coefficient.

    Columns: the `by` columns, n_units, n_pairable_units, n_pairable_values, coefficient, value,
    ci_low, ci_high, undefined_reason. Options are those of `agreement_report`.
    """
    rows = []
    ratings = frame.select(*by, "unit", "coder", "value")
    # no `by`: the frame is the one group, which is then not copied
    groups = ratings.group_by(by, maintain_order=True) if by else [((), ratings)]
    for key, group in groups:
        report = agreement_report(group.select("unit", "coder", "value"), level, **options)
        base = dict(zip(by, key, strict=True))
        base |= {
            "n_units": report.n_units,
            "n_pairable_units": report.n_pairable_units,
            "n_pairable_values": report.n_pairable_values,
        }
        for name, coef in report.coefficients.items():
            rows.append(
                base
                | {
                    "coefficient": name,
                    "value": coef.value,
                    "ci_low": coef.ci_low,
                    "ci_high": coef.ci_high,
                    "undefined_reason": coef.undefined_reason,
                }
            )
    schema = {c: frame.schema[c] for c in by} | AGREEMENT_COLUMNS
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# the columns of `agreement_by` after its `by` columns
AGREEMENT_COLUMNS: dict[str, pl.DataType] = {
    "n_units": pl.Int64,
    "n_pairable_units": pl.Int64,
    "n_pairable_values": pl.Int64,
    "coefficient": pl.String,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "undefined_reason": pl.String,
}


# what a span or box field's small-sample warning counts (`metrics.regions.region_agreement`)
REGION_SAMPLE_NOUNS = ("units with regions from two or more annotators", "regions")


def small_sample_warning(
    n_pairable_units: int | None,
    n_pairable_values: int | None,
    min_units: int,
    min_ratings: int,
    nouns: tuple[str, str] = ("units rated twice or more", "ratings on them"),
) -> str | None:
    """Why coefficients over so few ratings are not to be read on their own (their chance
    terms rest on a handful of ratings and swing far: Conger's kappa can fall below -1), or
    None when there are at least `min_units` pairable units and `min_ratings` ratings on them.
    `nouns` name the units and ratings counted (spans and boxes count regions).

    >>> small_sample_warning(6, 12, 20, 50)
    'small sample: 6 units rated twice or more (fewer than 20), 12 ratings on them (fewer than 50)'
    >>> small_sample_warning(400, 1200, 20, 50) is None
    True
    """
    units, values = n_pairable_units or 0, n_pairable_values or 0
    short = []
    if units < min_units:
        short.append(f"{units:,} {nouns[0]} (fewer than {min_units:,})")
    if values < min_ratings:
        short.append(f"{values:,} {nouns[1]} (fewer than {min_ratings:,})")
    return "small sample: " + ", ".join(short) if short else None
