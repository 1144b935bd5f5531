"""Crowdmeter's ETL: importers, the single-writer warehouse, snapshot publishing and the CLI."""
