"""C2SP signed notes (Ed25519) and tlog checkpoints.

Keys use the note-signer text forms of golang.org/x/mod/sumdb/note:
signer `PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>`,
verifier `<name>+<key id>+<base64(0x01 || 32-byte public key)>`, key id = SHA-256(name || "\n" || 0x01 || public)[:4].
A signature line is "— <name> <base64(key id || signature)>" over the note text (which ends in a newline).
"""

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    pass


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier_key(self) -> str:
        public = self.public
        return f"{self.name}+{key_id(self.name, public).hex()}+{base64.b64encode(ALG_ED25519 + public).decode()}"

    def encode(self) -> str:
        seed = self.private.private_bytes_raw()
        return (
            f"PRIVATE+KEY+{self.name}+{key_id(self.name, self.public).hex()}+"
            f"{base64.b64encode(ALG_ED25519 + seed).decode()}"
        )

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end in a newline)."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text ends in one newline and has no blank line")
        signature = key_id(self.name, self.public) + self.private.sign(text.encode())
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {base64.b64encode(signature).decode()}\n"


def signer_generate(name: str) -> Signer:
    if not _NAME.match(name):
        raise NoteError("a key name has no spaces and no '+'")
    return Signer(name=name, private=Ed25519PrivateKey.generate())


def signer_parse(text: str) -> Signer:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key reads PRIVATE+KEY+<name>+<id>+<key>")
    _, _, name, hex_id, encoded = parts
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise NoteError("only Ed25519 signer keys are supported")
    signer = Signer(name=name, private=Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if key_id(name, signer.public).hex() != hex_id.lower():
        raise NoteError("the signer key's id does not match its key")
    return signer


@dataclass(frozen=True)
class Verifier:
    name: str
    id: bytes
    public: Ed25519PublicKey


def verifier_parse(text: str) -> Verifier:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key reads <name>+<id>+<key>")
    name, hex_id, encoded = parts
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise NoteError("only Ed25519 verifier keys are supported")
    if key_id(name, raw[1:]).hex() != hex_id.lower():
        raise NoteError("the verifier key's id does not match its key")
    return Verifier(name=name, id=bytes.fromhex(hex_id), public=Ed25519PublicKey.from_public_bytes(raw[1:]))


def note_open(note: str, verifier: Verifier) -> str:
    """The text of a signed note once `verifier`'s signature on it checks; NoteError otherwise."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note")
    text, lines = note[: split + 1], note[split + 2 :].splitlines()
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = base64.b64decode(encoded, validate=True)
        if name != verifier.name or raw[:4] != verifier.id:
            continue
        try:
            verifier.public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError("the note's signature does not verify") from None
        return text
    raise NoteError("the note carries no signature of this key")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def checkpoint_parse(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise NoteError("a checkpoint reads origin, size, root hash")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root)
