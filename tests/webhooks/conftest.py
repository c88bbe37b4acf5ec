import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    """Test receivers listen on 127.0.0.1 over http: allow-listed here only."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.SITE_URL = "https://undersigned.example"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.down()


@pytest.fixture
def other_receiver():
    r = Receiver()
    yield r
    r.down()
