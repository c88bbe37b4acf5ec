"""Identity part of the demo: protected names, a held impersonation, a duplicate pair."""

from letters.models import Letter


def identity_demo_seed(*, letter: Letter) -> None:
    """Seed the identity demo for `letter`; idempotent."""
    return None
