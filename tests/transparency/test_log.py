"""The stored log: appends, tile hashes, checkpoints that always extend the last one, the append-only tables and
the tlog-tiles HTTP layout."""

import base64
import itertools

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from tests.transparency.test_merkle import ref_mth, ref_path, ref_subproof
from transparency import merkle, selectors, services
from transparency.keys import signing_key
from transparency.models import Checkpoint, Entry, TileHash
from transparency.note import checkpoint_parse, note_open, verifier_parse
from transparency.tiles import index_path, tile_parse, tile_path

pytestmark = pytest.mark.django_db

ENTRIES = [f"entry {i}".encode() for i in range(600)]


def append(entries, batch=97):
    for start in range(0, len(entries), batch):
        services.entries_append(entries=entries[start : start + batch])


def test_tile_indexes_are_encoded_as_the_spec_says():
    assert [index_path(n) for n in (0, 67, 1000, 1234067)] == ["000", "067", "x001/000", "x001/x234/067"]
    assert tile_path(0, 1234067, 8) == "tile/0/x001/x234/067.p/8"
    assert tile_parse("x001/x234/067.p/8") == (1234067, 8)
    assert tile_parse("067") == (67, 256)
    for bad in ("67", "x067", "001/000", "000.p/0", "000.p/256", "000.p/08", "x000/001"):
        with pytest.raises(ValueError):
            tile_parse(bad)


def test_appends_in_batches_store_the_leaf_and_tile_hashes_of_the_rfc_tree():
    append(ENTRIES)
    assert list(Entry.objects.order_by("index").values_list("index", flat=True)) == list(range(600))
    hashes = {(t.level, t.index): bytes(t.hash) for t in TileHash.objects.all()}
    assert hashes == {(8, 0): ref_mth(ENTRIES[:256]), (8, 1): ref_mth(ENTRIES[256:512])}
    source = selectors.StoredHashes()
    for size in (1, 255, 256, 257, 511, 512, 600):
        assert merkle.root(source, size) == ref_mth(ENTRIES[:size])
    assert selectors.inclusion_proof(index=300, size=600) == ref_path(300, ENTRIES)
    assert selectors.consistency_proof(size1=257, size2=600) == ref_subproof(257, ENTRIES, True)


def test_a_checkpoint_is_a_signed_note_of_the_tree_and_is_made_only_when_the_log_grew():
    first = services.checkpoint_publish()
    assert first is not None and first.size == 0 and bytes(first.root) == merkle.EMPTY_ROOT
    append(ENTRIES[:10])
    checkpoint = services.checkpoint_publish()
    assert services.checkpoint_publish() is None
    text = note_open(checkpoint.note, verifier_parse(signing_key().verifier_key))
    body = checkpoint_parse(text)
    assert (body.origin, body.size, body.root) == ("127.0.0.1:8000/log", 10, ref_mth(ENTRIES[:10]))
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [0, 10]


def test_no_checkpoint_is_signed_when_the_stored_tree_does_not_extend_the_last_one(is_postgres):
    append(ENTRIES[:300])
    services.checkpoint_publish()
    with connection.cursor() as cursor:  # an operator with table rights rewrites history
        if is_postgres:
            cursor.execute("ALTER TABLE transparency_entry DISABLE TRIGGER transparency_entry_append_only")
            cursor.execute("ALTER TABLE transparency_tilehash DISABLE TRIGGER transparency_tilehash_append_only")
        else:
            cursor.execute("DROP TRIGGER transparency_entry_append_only_update")
            cursor.execute("DROP TRIGGER transparency_tilehash_append_only_update")
    Entry.objects.filter(index=3).update(leaf_hash=merkle.leaf_hash(b"rewritten"))
    TileHash.objects.filter(level=8, index=0).update(hash=merkle.leaf_hash(b"rewritten"))
    append(ENTRIES[300:310])
    with pytest.raises(services.LogInconsistent):
        services.checkpoint_publish()
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [300]


def test_the_database_refuses_to_change_or_delete_a_logged_entry(is_postgres):
    append(ENTRIES[:3])
    services.checkpoint_publish()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Entry.objects.filter(index=1).update(data=b"changed")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Checkpoint.objects.update(note="changed")
    if is_postgres:  # SQLite's triggers refuse UPDATE only (test flushes delete; migration 0002)
        with pytest.raises(IntegrityError), transaction.atomic():
            Entry.objects.filter(index=1).delete()
    assert bytes(Entry.objects.get(index=1).data) == ENTRIES[1]


def test_checkpoint_tiles_and_key_are_served_in_the_tlog_tiles_layout(client):
    append(ENTRIES[:300])
    services.checkpoint_publish()
    append(ENTRIES[300:400])  # not checkpointed yet: not served

    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=5"
    text = note_open(response.content.decode(), verifier_parse(client.get("/log/key").content.decode()))
    assert text == f"127.0.0.1:8000/log\n300\n{base64.b64encode(ref_mth(ENTRIES[:300])).decode()}\n"

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(merkle.leaf_hash(e) for e in ENTRIES[:256])
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.content == b"".join(merkle.leaf_hash(e) for e in ENTRIES[256:300])
    assert client.get("/log/tile/0/001.p/40").content == partial.content[: 40 * 32]
    assert client.get("/log/tile/1/000.p/1").content == ref_mth(ENTRIES[:256])
    bundle = client.get("/log/tile/entries/001.p/44").content
    assert bundle == b"".join(len(e).to_bytes(2, "big") + e for e in ENTRIES[256:300])
    for missing in ("/log/tile/0/001", "/log/tile/0/001.p/45", "/log/tile/entries/001", "/log/tile/1/000",
                    "/log/tile/0/01", "/log/tile/9/000"):  # fmt: skip
        assert client.get(missing).status_code == 404, missing


def test_verify_log_recomputes_the_stored_log_and_names_a_rewritten_row(is_postgres):
    from django.core.management import CommandError, call_command

    append(ENTRIES[:300])
    services.checkpoint_publish()
    call_command("verify_log")
    with connection.cursor() as cursor:
        if is_postgres:
            cursor.execute("ALTER TABLE transparency_entry DISABLE TRIGGER transparency_entry_append_only")
        else:
            cursor.execute("DROP TRIGGER transparency_entry_append_only_update")
    Entry.objects.filter(index=7).update(data=b"rewritten")
    with pytest.raises(CommandError, match="problems in the transparency log"):
        call_command("verify_log")
    from transparency.integrity import log_problems

    assert log_problems() == [
        "entry 7: its stored leaf hash is not the hash of its data",
        "tile hash of level 8 at 0 differs from its entries",
        "checkpoint 300: the entries do not hash to its root",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_checkpoints_never_publish_two_inconsistent_checkpoints():
    from tests.concurrency import run_together

    def worker(offset):
        def run():
            for batch in range(5):
                services.entries_append(entries=[f"{offset}:{batch}:{i}".encode() for i in range(37)])
                services.checkpoint_publish()

        return run

    assert run_together(*(worker(n) for n in range(4))) == []
    checkpoints = list(Checkpoint.objects.order_by("size"))
    entries = [bytes(e.data) for e in Entry.objects.order_by("index")]
    assert len(entries) == 4 * 5 * 37 and checkpoints[-1].size == len(entries)
    for older, newer in itertools.pairwise(checkpoints):
        assert bytes(older.root) == ref_mth(entries[: older.size])
        proof = selectors.consistency_proof(size1=older.size, size2=newer.size)
        merkle.verify_consistency(older.size, newer.size, bytes(older.root), bytes(newer.root), proof)
