"""Fixed facts of the demo letter, shared by load_demo, tests and benchmarks."""

from datetime import UTC, datetime

DEMO_SLUG = "restore-defenders-access-to-ai"
DEMO_OPENED_AT = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
# Demo day 1 is 2026-11-16 (UTC); exactly 76 signatures are public at its end, as one outlet reported.
DEMO_DAY1_END = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)
DEMO_DAY2_END = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
# By the end of day 3 more than 100 are public, as another outlet reported.
DEMO_DAY3_END = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
DEMO_PUBLIC_AT_DAY1_END = 76
