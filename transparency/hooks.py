"""Producers: the apps above that write to the log register here (in their AppConfig.ready()) a callable that appends
their queued entries, in its own transaction, and returns how many it consumed. The beat task runs every producer,
then signs a checkpoint of the result (transparency.services.log_sync)."""

from collections.abc import Callable

Producer = Callable[[], int]
_producers: list[Producer] = []


def producer_register(producer: Producer) -> None:
    if producer not in _producers:
        _producers.append(producer)


def producers() -> list[Producer]:
    return list(_producers)
