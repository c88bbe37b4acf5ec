"""Producers: the apps above that write to the log register here (in their AppConfig.ready()) a callable that appends
one batch of their queued entries, in its own transaction, and returns how many queued items it consumed (0 when
nothing is left). The beat task runs the producers and signs a checkpoint after each round, until all return 0
(transparency.services.log_sync).

Checkpoint listeners: callables told, inside the transaction that stores a new checkpoint, which entries it is the
first to cover (`old_size` to `new_size`, exclusive), so what depends on a proof (a signer's receipt email) is written
with the checkpoint that makes the proof, never before it and never lost between the two."""

from collections.abc import Callable

Producer = Callable[[], int]
Listener = Callable[[int, int], None]
_producers: list[Producer] = []
_listeners: list[Listener] = []


def producer_register(producer: Producer) -> None:
    if producer not in _producers:
        _producers.append(producer)


def producers() -> list[Producer]:
    return list(_producers)


def checkpoint_listener_register(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def checkpoint_listeners() -> list[Listener]:
    return list(_listeners)
