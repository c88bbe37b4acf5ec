from datetime import datetime

from letters.models import AnnouncementQueue
from webhooks.delivery import deliveries_send_due
from webhooks.fanout import announcements_fan_out
from webhooks.models import Endpoint
from webhooks.services import endpoint_create


def subscribe(letter, receiver, events: list[str]) -> Endpoint:
    created = endpoint_create(letter=letter, url=receiver.url, event_types=events)
    receiver.secrets.append(created.secret)
    return created.endpoint


def forget_queued() -> None:
    """Drop what the letter factories queued (version 1, first opening) so a test sees only its own changes."""
    AnnouncementQueue.objects.all().delete()


def drain(now: datetime | None = None) -> int:
    announcements_fan_out(now=now)
    return deliveries_send_due(now=now) or 0
