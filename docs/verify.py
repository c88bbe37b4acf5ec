#!/usr/bin/env python3
"""Verify an Undersigned transparency log from its public HTTP interface alone (stdlib + `cryptography`).

    python docs/verify.py log --url https://letters.example.org --key '<verifier key>' --state var/log-state.json
    python docs/verify.py receipt my-signature.tlog-proof --key '<verifier key>' [--name 'Ada Lovelace' --salt HEX]

`log` fetches the checkpoint, checks its Ed25519 signature against the verifier key (given, or pinned in the state
file; fetched from /log/key only on first use), downloads every entry bundle and hash tile, recomputes every leaf
hash, tile hash and the root, checks the tree extends the checkpoint saved in the state file (the old root is
recomputed from the same leaves), replays each letter's entries into its public list and counts as of the newest
logged change (or --as-of) and compares them with the API's as-of answers. Any mismatch prints why and exits 1; on
success the checkpoint is saved to the state file for the next run.

`receipt` checks a signer's receipt offline: the checkpoint's signature and the entry's inclusion proof.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TILE = 256


class Mismatch(Exception):
    pass


# --- hashing (RFC 6962) ---------------------------------------------------------------------------------------------
def leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def roots_at(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """The tree root at each of `sizes`, in one pass over the leaves (a stack of perfect subtrees)."""
    found: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []

    def current() -> bytes:
        if not stack:
            return hashlib.sha256(b"").digest()
        h = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            h = node(left, h)
        return h

    if 0 in sizes:
        found[0] = current()
    for n, h in enumerate(leaves, 1):
        width = 1
        while stack and stack[-1][0] == width:
            h = node(stack.pop()[1], h)
            width *= 2
        stack.append((width, h))
        if n in sizes:
            found[n] = current()
    return found


def root_from_inclusion(index: int, size: int, leaf_hash: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        raise Mismatch(f"index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise Mismatch("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Mismatch("inclusion proof too short")
    return r


# --- signed notes ----------------------------------------------------------------------------------------------------
def verifier_parse(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, key_id, encoded = text.strip().split("+", 2)
    raw = base64.b64decode(encoded)
    if len(raw) != 33 or raw[0] != 1:
        raise Mismatch("not an Ed25519 verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id.lower():
        raise Mismatch("the verifier key's id does not match its key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def checkpoint_open(note: str, key: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint whose signature by `key` verifies."""
    name, key_id, public = verifier_parse(key)
    split = note.rfind("\n\n")
    if split < 0:
        raise Mismatch("the checkpoint is not a signed note")
    text = note[: split + 1]
    for line in note[split + 2 :].splitlines():
        signer, _, encoded = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(encoded)
        if signer == name and raw[:4] == key_id:
            try:
                public.verify(raw[4:], text.encode())
            except InvalidSignature:
                raise Mismatch("the checkpoint's signature does not verify") from None
            origin, size, root = text.split("\n")[:3]
            return origin, int(size), base64.b64decode(root)
    raise Mismatch("the checkpoint is not signed by this key")


# --- fetching --------------------------------------------------------------------------------------------------------
def index_path(n: int) -> str:
    digits = str(n).zfill(-(-len(str(n)) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: str | int, n: int, width: int) -> str:
    return f"tile/{level}/{index_path(n)}" + ("" if width == TILE else f".p/{width}")


def tiles(size: int, level: int) -> list[tuple[int, int]]:
    stored = size >> (8 * level)
    out = [(n, TILE) for n in range(stored // TILE)]
    return out + ([(stored // TILE, stored % TILE)] if stored % TILE else [])


class Site:
    def __init__(self, url: str, workers: int = 8):
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise Mismatch("the site's URL must be http:// or https://")
        self.url = url.rstrip("/")
        self.pool = ThreadPoolExecutor(workers)

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}/{path}", timeout=60) as response:  # noqa: S310  # http(s) only
            return response.read()

    def json(self, path: str, **params: str) -> dict:
        return json.loads(self.get(f"{path}?{urllib.parse.urlencode(params)}" if params else path))

    def many(self, paths: list[str]) -> list[bytes]:
        return list(self.pool.map(self.get, paths))


# --- the log ---------------------------------------------------------------------------------------------------------
def entries_fetch(site: Site, size: int) -> list[bytes]:
    entries: list[bytes] = []
    wanted = tiles(size, 0)
    bundles = site.many([f"log/{tile_path('entries', n, w)}" for n, w in wanted])
    for (n, width), bundle in zip(wanted, bundles, strict=True):
        at, count = 0, 0
        while at < len(bundle):
            length = int.from_bytes(bundle[at : at + 2], "big")
            entries.append(bundle[at + 2 : at + 2 + length])
            at, count = at + 2 + length, count + 1
        if count != width:
            raise Mismatch(f"entry bundle {n} holds {count} entries, not {width}")
    return entries


def hash_tiles_check(site: Site, size: int, leaves: list[bytes]) -> None:
    """Every hash tile the log serves for this tree is what the entries hash to."""
    level_hashes, level = leaves, 0
    while size >> (8 * level):
        wanted = tiles(size, level)
        for (n, width), served in zip(
            wanted, site.many([f"log/{tile_path(level, n, w)}" for n, w in wanted]), strict=True
        ):
            if served != b"".join(level_hashes[n * TILE : n * TILE + width]):
                raise Mismatch(f"hash tile {tile_path(level, n, width)} differs from the entries")
        level_hashes = [fold(level_hashes[i : i + TILE]) for i in range(0, len(level_hashes) - TILE + 1, TILE)]
        level += 1


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def replay(entries: list[dict], until: dict[str, datetime] | None = None) -> dict[str, dict]:
    """Per letter: its public signatures (id → entry state) after the entries with `at` ≤ until[letter] (all when
    not given), the newest change time and its versions."""
    letters: dict[str, dict] = {}
    for entry in entries:
        letter = letters.setdefault(entry["letter"], {"public": {}, "last_at": None, "versions": [], "sweeps": []})
        at = moment(entry["at"])
        if until is not None and (entry["letter"] not in until or at > until[entry["letter"]]):
            continue
        letter["last_at"] = at if letter["last_at"] is None else max(letter["last_at"], at)
        if entry["t"] == "version":
            letter["versions"].append(entry)
        elif entry["t"] in ("entered", "changed"):
            letter["public"][entry["id"]] = entry
        elif entry["t"] == "left":
            letter["public"].pop(entry["id"], None)
        elif entry["t"] in ("invalidation", "invalidation_undone"):
            letter["sweeps"].append(entry)  # a moderator's bulk invalidation; its signatures have their own entries
    return letters


def counts_of(public: dict[str, dict]) -> dict:
    by_level: dict[str, int] = {}
    for state in public.values():
        by_level[state["level"]] = by_level.get(state["level"], 0) + 1
    withheld = sum(1 for s in public.values() if s["withheld"])
    return {"public": len(public), "by_level": dict(sorted(by_level.items())), "name_withheld": withheld}


def api_compare(site: Site, slug: str, public: dict[str, dict], as_of: datetime) -> dict:
    counts = counts_of(public)
    stats = site.json(f"api/v1/letters/{slug}/stats/", as_of=as_of.isoformat())
    served = {k: stats[k] for k in ("public", "by_level", "name_withheld")}
    served["by_level"] = dict(sorted(served["by_level"].items()))
    if served != counts:
        raise Mismatch(f"{slug} as of {as_of}: the log replays to {counts}, the API says {served}")
    export = site.json(f"api/v1/letters/{slug}/export.json", as_of=as_of.isoformat())
    listed = {row["id"]: row for row in export["signatures"]}
    if set(listed) != set(public):
        missing, extra = sorted(set(public) - set(listed)), sorted(set(listed) - set(public))
        raise Mismatch(f"{slug} as of {as_of}: listed but not logged {extra[:5]}, logged but not listed {missing[:5]}")
    for public_id, row in listed.items():
        salt, logged = row.get("name_salt"), public[public_id]["name"]
        if salt and logged and hashlib.sha256(bytes.fromhex(salt) + row["name"].encode()).hexdigest() != logged:
            raise Mismatch(f"{slug}: the name shown for {public_id} is not the one the log committed to")
    return counts


def verify_log(args: argparse.Namespace) -> None:
    site = Site(args.url, workers=args.workers)
    state_path = Path(args.state) if args.state else None
    state = json.loads(state_path.read_text()) if state_path and state_path.exists() else {}
    key = args.key or state.get("key")
    if key and Path(key).is_file():
        key = Path(key).read_text().strip()
    if not key:
        key = site.get("log/key").decode().strip()
        print(f"warning: trusting the verifier key served by the log on first use: {key}", file=sys.stderr)
    if state.get("key") and state["key"] != key:
        raise Mismatch("the verifier key differs from the one pinned in the state file")
    origin, size, root = checkpoint_open(site.get("log/checkpoint").decode(), key)
    if state and state["origin"] != origin:
        raise Mismatch(f"the log's origin changed from {state['origin']} to {origin}")
    print(f"checkpoint {origin} size {size} root {base64.b64encode(root).decode()}: signature OK")

    entries = entries_fetch(site, size)
    leaves = [leaf(e) for e in entries]
    old_size = state.get("size", 0)
    if old_size > size:
        raise Mismatch(f"the log shrank from {old_size} to {size} entries")
    roots = roots_at(leaves, {size, old_size})
    if roots[size] != root:
        raise Mismatch("the entries do not hash to the checkpoint's root")
    if state and roots[old_size] != base64.b64decode(state["root"]):
        raise Mismatch(f"the log does not extend the checkpoint of size {old_size} saved earlier")
    hash_tiles_check(site, size, leaves)
    print(f"{size} entries hash to the root; consistent with the saved checkpoint of size {old_size}; tiles OK")

    decoded = [json.loads(e) for e in entries]
    letters = replay(decoded)
    for slug in sorted(letters) if not args.letter else [args.letter]:
        if slug not in letters:
            raise Mismatch(f"no entries for letter {slug}")
        for when in [moment(m) for m in args.as_of] if args.as_of else [letters[slug]["last_at"]]:
            public = replay(decoded, until={slug: when})[slug]["public"]
            counts = api_compare(site, slug, public, when) if not args.offline else counts_of(public)
            print(f"{slug} as of {when.isoformat()}: {counts['public']} public signatures {counts['by_level']}"
                  f"{'' if args.offline else ' — matches the API'}")  # fmt: skip
        for sweep in letters[slug]["sweeps"]:
            done, moved = ("undone", "restored") if sweep["t"] == "invalidation_undone" else ("ran", "removed")
            print(f"{slug}: bulk invalidation {sweep['id']} {done} at {sweep['at']}, {sweep['count']} {moved} "
                  f"(criteria {sweep['criteria'][:12]}…)")  # fmt: skip
    if state_path:
        state_path.write_text(json.dumps({"origin": origin, "key": key, "size": size,
                                          "root": base64.b64encode(root).decode()}, indent=1))  # fmt: skip


def verify_receipt(args: argparse.Namespace) -> None:
    """A c2sp.org/tlog-proof@v1 receipt: `extra` is the entry itself (base64)."""
    text = Path(args.file).read_text()
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Mismatch("not a c2sp.org/tlog-proof@v1 receipt")
    fields = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines[1:] if " " in line}
    proof = [base64.b64decode(line) for line in lines[1:] if " " not in line]
    entry, index = base64.b64decode(fields["extra"]), int(fields["index"])
    key = Path(args.key).read_text().strip() if Path(args.key).is_file() else args.key
    origin, size, root = checkpoint_open(note, key)
    if root_from_inclusion(index, size, leaf(entry), proof) != root:
        raise Mismatch("the inclusion proof does not lead to the checkpoint's root")
    logged = json.loads(entry)
    print(f"entry {index} is in {origin} (checkpoint of size {size}): {json.dumps(logged, sort_keys=True)}")
    if args.name is not None:
        if not args.salt or hashlib.sha256(bytes.fromhex(args.salt) + args.name.encode()).hexdigest() != logged.get(
            "name"
        ):
            raise Mismatch("the name and salt do not open the logged commitment")
        print("the logged commitment opens to the name given")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser("log", help="verify the whole log against the API")
    log.add_argument("--url", required=True, help="the site, e.g. http://127.0.0.1:8000")
    log.add_argument("--key", help="the verifier key (text or a file); default: pinned in --state")
    log.add_argument("--state", help="JSON file keeping the last verified checkpoint (read, then updated)")
    log.add_argument("--letter", help="compare only this letter with the API")
    log.add_argument("--as-of", action="append", help="compare as of these instants (ISO 8601); repeatable")
    log.add_argument("--offline", action="store_true", help="do not compare with the API")
    log.add_argument("--workers", type=int, default=8)
    receipt = commands.add_parser("receipt", help="verify a signer's receipt offline")
    receipt.add_argument("file")
    receipt.add_argument("--key", required=True)
    receipt.add_argument("--name", help="the signed name, to open the commitment (with --salt)")
    receipt.add_argument("--salt", help="the salt from the receipt email, hex")
    args = parser.parse_args(argv)
    try:
        (verify_log if args.command == "log" else verify_receipt)(args)
    except (Mismatch, ValueError, KeyError, OSError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
