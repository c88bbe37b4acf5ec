"""Celery tasks for webhooks (beat, every few seconds): thin wrappers over the fan-out and the sender."""

import contextlib

from celery import shared_task

from webhooks import delivery, fanout


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhooks_fan_out() -> int:
    """Turn announced changes into deliveries until the queue is empty (or 20 s passed), then send what is due."""
    created = fanout.announcements_fan_out_until_done()
    if created:
        # Broker unreachable: the deliveries are committed and beat's send task finds them.
        with contextlib.suppress(Exception):
            webhooks_send_due.delay()
    return created


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhooks_send_due() -> int:
    """Send due deliveries, batch after batch, until none is due (or 25 s passed)."""
    return delivery.deliveries_send_until_done()
