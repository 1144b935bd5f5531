"""Crowdmeter's ETL: importers, the single-writer warehouse and snapshot publishing."""
