"""Celery application: JSON only, late acks, time limits; tasks are enqueued after commit."""

import os

from celery import Celery
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, made to fail as a connection error once its transport is detached.

    When the broker goes away, Celery 5.7 first collects the broken connection (which detaches the transport from
    it) and then closes it. The second close tries to put the worker's unacknowledged messages back through the
    detached transport, and building that client raises AttributeError ('NoneType' ... 'hostname'), which is not a
    connection error: the worker logged "Unrecoverable error" and exited instead of reconnecting. Raising a
    connection error lets Celery ignore it and reconnect; the messages stay in Redis's unacked set and come back
    after the visibility timeout, and the outbox does not depend on them (beat resends anything unsent).
    """

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("The broker connection is closed.")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # private kombu method, not in celery-types


class RedisTransport(kombu_redis.Transport):
    """The Redis transport with RedisChannel; set as CELERY_BROKER_TRANSPORT for redis:// brokers."""

    Channel = RedisChannel


app = Celery("undersigned")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
