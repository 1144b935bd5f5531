"""Where the files Crowdmeter ships beside its code are, read through `importlib.resources`.

They are package data of `etl`, so an installed wheel has them as well as a checkout: the SQL
(`sql/`), the metric definitions (`docs/METRICS.md`), the default settings (`config.toml`) and
the dated reference tables (`etl/data/`). In the source tree `etl/shipped/` holds links to the
first three; building a wheel copies what they point to. No other module knows these paths.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# A Path, not only a Traversable: Crowdmeter is installed as files (pip never zips a wheel), and
# the readers glob folders.
_PACKAGE = Path(str(files("etl")))
_SHIPPED = _PACKAGE / "shipped"

SCHEMA_DIR = _SHIPPED / "sql" / "schema"
MARTS_DIR = _SHIPPED / "sql" / "marts"
METRICS_DOC = _SHIPPED / "METRICS.md"
DEFAULT_CONFIG = _SHIPPED / "config.toml"
REFERENCE_TABLES_DIR = _PACKAGE / "data"
