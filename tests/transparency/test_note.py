"""Signed notes and keys in the note-signer forms."""

import base64

import pytest

from transparency.note import (
    Checkpoint,
    NoteError,
    checkpoint_parse,
    key_id,
    note_open,
    signer_generate,
    signer_parse,
    verifier_parse,
)


def test_a_signer_key_round_trips_through_its_text_form_and_signs_a_note_its_verifier_opens():
    signer = signer_generate("example.org/log")
    again = signer_parse(signer.encode())
    note = again.sign("example.org/log\n3\n" + base64.b64encode(b"r" * 32).decode() + "\n")
    text = note_open(note, verifier_parse(signer.verifier_key))
    assert checkpoint_parse(text) == Checkpoint(origin="example.org/log", size=3, root=b"r" * 32)
    name, hex_id, encoded = signer.verifier_key.split("+", 2)
    assert (name, hex_id) == ("example.org/log", key_id(name, base64.b64decode(encoded)[1:]).hex())
    assert note.splitlines()[-1].startswith("\u2014 example.org/log ")


def test_a_changed_note_or_another_key_is_refused():
    signer = signer_generate("example.org/log")
    note = signer.sign("example.org/log\n3\n" + base64.b64encode(b"r" * 32).decode() + "\n")
    with pytest.raises(NoteError, match="does not verify"):
        note_open(note.replace("\n3\n", "\n4\n"), verifier_parse(signer.verifier_key))
    other = signer_generate("example.org/log")
    with pytest.raises(NoteError, match="no signature of this key"):
        note_open(note, verifier_parse(other.verifier_key))


def test_a_key_whose_id_does_not_match_is_refused():
    signer = signer_generate("example.org/log")
    name, _, encoded = signer.verifier_key.split("+", 2)
    with pytest.raises(NoteError, match="does not match"):
        verifier_parse(f"{name}+00000000+{encoded}")
