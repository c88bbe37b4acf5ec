"""The standalone verifier (docs/verify.py) against the public HTTP interface: it passes on an honest log and
fails when one stored row or one served tile is changed."""

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from letters.services.signing import signature_withdraw
from tests.builders import signed
from transparency import services as log
from transparency.keys import signing_key
from transparency.models import Entry

pytestmark = pytest.mark.django_db
SPEC = importlib.util.spec_from_file_location("verify", Path(settings.BASE_DIR) / "docs" / "verify.py")
verify = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(verify)


class ClientSite(verify.Site):
    """The verifier's HTTP reads answered by Django's test client (optionally tampered with)."""

    def __init__(self, client, tamper=None):
        super().__init__("http://testserver", workers=1)
        self.client, self.tamper = client, tamper or {}

    def get(self, path):
        response = self.client.get("/" + path)
        if response.status_code != 200:
            raise OSError(f"{path}: HTTP {response.status_code}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return self.tamper.get(path.split("?")[0], lambda b: b)(body)

    def many(self, paths):
        return [self.get(p) for p in paths]  # the test database belongs to this thread


def run(monkeypatch, client, *argv, tamper=None):
    monkeypatch.setattr(verify, "Site", lambda url, workers=8: ClientSite(client, tamper))
    return verify.main(["log", "--url", "http://testserver", "--key", signing_key().verifier_key, *argv])


@pytest.fixture
def logged_letter(open_letter):
    start = timezone.now() - timedelta(days=2)
    people = [signed(open_letter, name=f"Signer {i}", email=f"s{i}@example.org", at=start + timedelta(hours=i))
              for i in range(6)]  # fmt: skip
    signed(open_letter, name="Quiet One", email="quiet@example.org", name_shown=False, at=start)
    signature_withdraw(signature=people[0], at=start + timedelta(hours=10))
    log.log_sync()
    return open_letter


def test_the_verifier_passes_on_an_honest_log_and_saves_the_checkpoint(monkeypatch, client, logged_letter, tmp_path,
                                                                       capsys):  # fmt: skip
    state = tmp_path / "state.json"
    assert run(monkeypatch, client, "--state", str(state)) == 0
    out = capsys.readouterr().out
    assert f"{logged_letter.slug} as of " in out and ": 6 public signatures {'email': 6} — matches the API" in out
    assert json.loads(state.read_text())["size"] == Entry.objects.count()

    signed(logged_letter, name="Late Signer", email="late@example.org")
    log.log_sync()
    assert run(monkeypatch, client, "--state", str(state)) == 0
    assert "consistent with the saved checkpoint of size 9" in capsys.readouterr().out


def test_the_verifier_recomputes_past_counts(monkeypatch, client, logged_letter, capsys):
    first = Entry.objects.order_by("index")[1]
    as_of = json.loads(bytes(first.data))["at"]
    assert run(monkeypatch, client, "--as-of", as_of) == 0
    assert ": 2 public signatures" in capsys.readouterr().out  # the withheld one and the first signer


def test_the_verifier_fails_when_a_stored_entry_is_changed(monkeypatch, client, logged_letter, is_postgres, capsys):
    with connection.cursor() as cursor:
        if is_postgres:
            cursor.execute("ALTER TABLE transparency_entry DISABLE TRIGGER transparency_entry_append_only")
        else:
            cursor.execute("DROP TRIGGER transparency_entry_append_only_update")
    entry = Entry.objects.get(index=2)
    Entry.objects.filter(index=2).update(data=bytes(entry.data).replace(b'"email"', b'"manual"'))
    assert run(monkeypatch, client) == 1
    assert "FAILED: the entries do not hash to the checkpoint's root" in capsys.readouterr().err


def test_the_verifier_fails_when_a_served_tile_is_changed(monkeypatch, client, logged_letter, capsys):
    path = verify.tile_path(0, 0, Entry.objects.count())
    assert run(monkeypatch, client, tamper={f"log/{path}": lambda b: b[:-1] + bytes([b[-1] ^ 1])}) == 1
    assert f"FAILED: hash tile {path} differs from the entries" in capsys.readouterr().err


def test_the_verifier_fails_when_the_log_does_not_extend_the_saved_checkpoint(monkeypatch, client, logged_letter,
                                                                            tmp_path, capsys):  # fmt: skip
    state = tmp_path / "state.json"
    assert run(monkeypatch, client, "--state", str(state)) == 0
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "root": "A" * 43 + "="}))
    assert run(monkeypatch, client, "--state", str(state)) == 1
    assert "does not extend the checkpoint of size" in capsys.readouterr().err


def test_a_signer_receipt_is_served_once_logged_and_verifies_offline(client, open_letter, tmp_path, capsys):
    signature = signed(open_letter, name="Grace Hopper", email="grace@example.org")
    url = f"/letters/{open_letter.slug}/receipts/{signature.public_id}.tlog-proof"
    assert client.get(url).status_code == 404  # not logged yet
    log.log_sync()
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"c2sp.org/tlog-proof@v1\nextra ")
    receipt = tmp_path / "r.tlog-proof"
    receipt.write_bytes(response.content)
    salt = bytes(signature.commitment.salt).hex()
    key = signing_key().verifier_key
    assert verify.main(["receipt", str(receipt), "--key", key, "--name", "Grace Hopper", "--salt", salt]) == 0
    assert "the logged commitment opens to the name given" in capsys.readouterr().out
    assert verify.main(["receipt", str(receipt), "--key", key, "--name", "Grace Hoper", "--salt", salt]) == 1
    tampered = tmp_path / "t.tlog-proof"
    tampered.write_text(response.content.decode().replace("index 1", "index 0"))
    assert verify.main(["receipt", str(tampered), "--key", key]) == 1
    assert "FAILED: the inclusion proof does not lead to the checkpoint's root" in capsys.readouterr().err


def test_the_confirmation_page_links_the_receipt(client, open_letter):
    from letters.services.tokens import token_issue

    signature = signed(open_letter, confirm=False)
    token = token_issue(signature=signature, purposes=["confirm"])["confirm"]
    page = client.post(f"/confirm/{token}/").content.decode()
    assert f"/letters/{open_letter.slug}/receipts/{signature.public_id}.tlog-proof" in page


def test_the_verifier_replays_a_bulk_invalidation_and_its_undo_and_still_matches_the_api(
    monkeypatch, client, logged_letter, capsys
):
    from moderation.models import Invalidation
    from moderation.services import invalidation_run, invalidation_start, invalidation_undo
    from tests.factories import UserFactory

    moderator = UserFactory()
    invalidation = invalidation_start(
        letter=logged_letter, criteria={"name": "Signer*"}, reason="Bots", confirm_large=True, actor=moderator
    )
    invalidation_run(invalidation_id=invalidation.pk)
    log.log_sync()
    assert run(monkeypatch, client) == 0
    out = capsys.readouterr().out
    assert ": 1 public signatures {'email': 1} — matches the API" in out  # only the withheld one is left
    assert f"bulk invalidation {invalidation.public_id} ran at " in out and ", 5 removed (criteria " in out

    invalidation_undo(invalidation=Invalidation.objects.get(pk=invalidation.pk), actor=moderator)
    invalidation_run(invalidation_id=invalidation.pk)
    log.log_sync()
    assert run(monkeypatch, client) == 0
    out = capsys.readouterr().out
    assert ": 6 public signatures {'email': 6} — matches the API" in out
    assert f"bulk invalidation {invalidation.public_id} undone at " in out and ", 5 restored" in out
