"""Two batches of an import in flight at once (PostgreSQL): each batch's commit overlaps the next batch's work.

A batch's commit is about a quarter of an import job's time (its deferred foreign-key checks, ~18 a signer), during
which the worker's Python used to wait; the job's worker and database CPU added up to its wall time exactly (P7).
In the relay two threads, each with its own connection, take the batches in turn. Batches still commit one after
another, in file order, each with its watermark, so resumability and idempotence are those of the sequential path:

- batch i starts its transaction once batch i - 1 has written all its rows and begun to commit;
- it writes its own rows without the import's row lock, then waits for batch i - 1's commit, takes the lock, and
  checks that the watermark is where it began (`Turn.locked`) before it sets its own and commits;
- what it cannot see of batch i - 1 it is told: the addresses that batch signed (an address repeated in the file
  is "already signed", as in the sequential path). A new organization both batches name makes the second's insert
  wait for the first's commit and then read its row, as with a concurrent signer;
- anything unusual — the import no longer running, the letter no longer taking signatures, the watermark moved by
  another worker, a database error — stops the relay (RelayStop): the batch in flight rolls back and the sequential
  path (importing.jobs.import_run) goes on from the committed watermark and decides what to do.

A session advisory lock keeps a second worker's relay of the same import out (its batches run sequentially, under
the row lock). The relay is used only from autocommit (a Celery worker), never inside a caller's transaction, whose
rows the relay's own connections could not see; `IMPORT_RELAY=0` turns it off.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection

from importing.models import SignatureImport
from importing.pacing import Pacer

logger = logging.getLogger(__name__)
ADVISORY_NAMESPACE = 0x1_4D50  # pg_advisory_lock(namespace, import id): one relay per import


class RelayStop(Exception):
    """The relay ends here; the sequential path takes over from the committed watermark."""


@dataclass
class Relay:
    start: int  # the committed watermark the relay began at
    cond: threading.Condition = field(default_factory=threading.Condition)
    pace: threading.Lock = field(default_factory=threading.Lock)  # held while a batch's pacing sleep runs
    written_up_to: int = -1
    committed_up_to: int = -1
    live: dict[int, dict[str, int]] = field(default_factory=dict)  # by batch: {email key: signature id} it wrote
    stopped: bool = False
    error: BaseException | None = None

    def wait_turn(self, index: int) -> dict[str, int]:
        """Until batch `index - 1` has written its rows; then what it signed."""
        with self.cond:
            self.cond.wait_for(lambda: self.stopped or self.written_up_to >= index - 1)
            if self.stopped:
                raise RelayStop
            return self.live.pop(index - 1, {})

    def written(self, index: int, live: dict[str, int]) -> None:
        with self.cond:
            self.written_up_to, self.live[index] = index, live
            self.cond.notify_all()

    def wait_committed(self, index: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.stopped or self.committed_up_to >= index)
            if self.stopped:
                raise RelayStop

    def committed(self, index: int) -> None:
        with self.cond:
            self.committed_up_to = index
            self.cond.notify_all()

    def stop(self, error: BaseException | None = None) -> None:
        with self.cond:
            self.stopped = True
            if error is not None and self.error is None:
                self.error = error
            self.cond.notify_all()


@dataclass
class Turn:
    """Batch `index` of the relay, of import `import_id`, starting at data row `start`; `live_before`: what the batch
    before it signed, {email key: signature id}."""

    relay: Relay
    import_id: int
    index: int
    start: int
    live_before: dict[str, int]

    def written(self, live: dict[str, int]) -> None:
        self.relay.written(self.index, live)

    def locked(self, start: int) -> SignatureImport:
        """The import's row, locked, once the batch before this one has committed; RelayStop unless its watermark
        is where this batch began and it still runs."""
        self.relay.wait_committed(self.index - 1)
        signature_import = (
            SignatureImport.objects.select_for_update(of=("self",), no_key=True)
            .select_related("letter", "created_by")
            .defer("content", "checked")
            .get(pk=self.import_id)
        )
        if signature_import.rows_done != start or signature_import.status != SignatureImport.Status.RUNNING:
            raise RelayStop
        return signature_import


BatchRun = Callable[[Turn], bool]  # runs and commits one batch; False when the import has no rows left


def relay_run(
    *, signature_import_id: int, start: int, total: int, batch_rows: int, run: BatchRun, pacer: Pacer
) -> None:
    """Run batches from data row `start` with two threads until the rows end or the relay stops. Returns normally
    in both cases (the caller goes on sequentially); re-raises what is not a database error or a RelayStop."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, signature_import_id])
        if not cursor.fetchone()[0]:
            return  # another worker's relay runs this import: its batches here go under the row lock
    relay = Relay(start=start)
    try:
        threads = [
            threading.Thread(
                target=_worker,
                kwargs={
                    "relay": relay,
                    "first": first,
                    "signature_import_id": signature_import_id,
                    "total": total,
                    "batch_rows": batch_rows,
                    "run": run,
                    "pacer": pacer,
                },
                name=f"import-relay-{first}",
            )
            for first in (0, 1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, signature_import_id])
    if isinstance(relay.error, DatabaseError):  # the sequential path retries the batch under the row lock
        logger.warning("import %s: relay stopped by %r", signature_import_id, relay.error)
    elif relay.error is not None:
        raise relay.error


def _worker(
    *,
    relay: Relay,
    first: int,
    signature_import_id: int,
    total: int,
    batch_rows: int,
    run: BatchRun,
    pacer: Pacer,
) -> None:
    index = first
    try:
        while True:
            start = relay.start + index * batch_rows
            if start >= total:
                return
            live_before = relay.wait_turn(index)
            with relay.pace:  # no batch starts during another's pacing sleep
                pass
            began = time.perf_counter()
            more = run(
                Turn(relay=relay, import_id=signature_import_id, index=index, start=start, live_before=live_before)
            )
            relay.committed(index)
            if not more:
                relay.stop()
                return
            with relay.pace:
                pacer.after_batch(time.perf_counter() - began)
            index += 2
    except RelayStop:
        relay.stop()
    except BaseException as exc:
        relay.stop(exc)
    finally:
        connection.close()  # this thread's own connection
