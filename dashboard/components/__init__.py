"""Builders of the dashboard's layout pieces: shell, filters, cards, charts, tables, help."""
