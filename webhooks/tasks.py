"""Celery tasks for webhooks (beat, every few seconds): thin wrappers over the fan-out and the sender."""

from celery import shared_task

from webhooks import delivery, fanout


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhooks_fan_out() -> int:
    """Turn a batch of announced changes into deliveries, then send what is due."""
    created = fanout.announcements_fan_out()
    if created:
        webhooks_send_due.delay()
    return created


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhooks_send_due() -> int:
    """Send due deliveries, batch after batch, until none is due (or 25 s passed)."""
    return delivery.deliveries_send_until_done()
