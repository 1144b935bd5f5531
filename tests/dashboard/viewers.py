"""One viewer per role over the dashboard fixture, and their scoped data, for tests that call the
data module and page builders directly."""

from __future__ import annotations

from dashboard.data import QUERIES_KEPT, ScopedData, SingleFlightCache
from dashboard.users import User
from etl.reader import SnapshotReader
from etl.settings import Settings
from tests.dashboard.warehouse_fixture import worker

ADMIN = User("ada", "admin")
MANAGER = User("mia", "manager", projects=(("mturk", "P1"),))
AUDITOR = User("aud", "auditor")
FREELANCER = User(
    "fred", "freelancer", workers=(worker("mturk", "A_RAW_5"), worker("toloka", "t1"))
)


def viewer_data(settings: Settings, viewer: User, **changes) -> ScopedData:
    """What `viewer` may read from the fixture snapshot, under `settings` with `changes`."""
    return ScopedData(
        SnapshotReader(settings),
        viewer,
        settings.model_copy(update=changes),
        SingleFlightCache(QUERIES_KEPT),
    )
