"""Fairness audits (pay equity, review fairness, label bias, workload) as pure functions over
Polars frames, returning findings in the shape of `crowdmeter audit --json`."""
