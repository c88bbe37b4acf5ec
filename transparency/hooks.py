"""Producers: the apps above that write to the log register here (in their AppConfig.ready()) a callable that appends
one batch of their queued entries, in its own transaction, and returns how many queued items it consumed (0 when
nothing is left). The beat task runs the producers and signs a checkpoint after each round, until all return 0
(transparency.services.log_sync)."""

from collections.abc import Callable

Producer = Callable[[], int]
_producers: list[Producer] = []


def producer_register(producer: Producer) -> None:
    if producer not in _producers:
        _producers.append(producer)


def producers() -> list[Producer]:
    return list(_producers)
