"""Helpers for tests of what two transactions do to each other (PostgreSQL)."""

import threading

from django.db import connection, transaction


def second_waits_for_first(first, second) -> bool:
    """Runs `first` in a transaction held open, then `second` in another thread; True when `second` could not
    finish until `first` committed. Both have committed when this returns."""
    started, finished, commit = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            first()
            started.set()
            commit.wait(5)
        connection.close()

    def follow() -> None:
        started.wait(5)
        second()
        finished.set()
        connection.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    waited = not finished.wait(0.5)
    commit.set()
    for thread in threads:
        thread.join(10)
    return waited


def run_together(*steps) -> list[BaseException]:
    """Start every step in its own thread at once; the errors they raised (none when all went well)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(steps))

    def run(step) -> None:
        try:
            barrier.wait(10)
            step()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors
