"""Records as columns: what a scan of a million people keeps of each (a few interned strings and numbers), not one
object per person. Records are read once, as they come (an iterable, not a list), and rebuilt one at a time for the
few pairs that are evaluated with their reasons."""

import sys
from array import array
from collections.abc import Iterable

import numpy as np

from registry.dedup.blocking import BlockEntries, Blocks
from registry.dedup.levels import Frequencies
from registry.dedup.records import EMPTY, OrgName, PersonRecord


def _compact(record: PersonRecord) -> str | None:
    """The one email address of a record that its columns rebuild exactly ("" for none); None if they cannot
    (several addresses or organizations, aliases, or reviews and verifications the columns do not hold)."""
    if len(record.email_keys) > 1 or len(record.organizations) > 1 or record.aliases:
        return None
    email = next(iter(record.email_keys), "")
    if record.email_keys and not email:
        return None
    if not record.reviewed <= record.organizations.keys():
        return None
    if not record.verified_domains <= {email.rpartition("@")[2]}:
        return None
    return email


class RecordTable:
    """Columns of records in the order given: `given`, `surname`, `domains` (interned strings, object arrays),
    `masks`, `joined` (the hash of the name's letters), `org_ids`, `org_key` (index into `org_key_names`, 0 for
    none), `has_middle`, `reviewed`, `verified`, `simple`; and, with `blocking`, the block entries of each record.
    Records the columns cannot rebuild (several organizations or addresses, aliases) are kept whole."""

    def __init__(
        self,
        records: Iterable[PersonRecord],
        *,
        blocking: bool = False,
        only_block_keys: set[str] | None = None,
        chunk: tuple[int, int] | None = None,
    ) -> None:
        self.entries = BlockEntries(only_block_keys=only_block_keys, chunk=chunk) if blocking else None
        self.freq = Frequencies()
        ids, masks, joined, org_ids, org_key = array("q"), array("q"), array("q"), array("q"), array("i")
        flags = array("b")  # has_middle, reviewed, verified, simple, as bits
        given: list[str] = []
        surname: list[str] = []
        domains: list[str] = []
        self.names: list[str] = []
        self.emails: list[str | None] = []
        self.org_entries: list[tuple[int, str] | None] = []
        self.whole: dict[int, PersonRecord] = {}
        self.middles: dict[int, tuple[str, ...]] = {}  # the few records with more than two name words
        self.org_key_names: list[OrgName | None] = [None]
        key_index: dict[OrgName, int] = {}
        entry_index: dict[tuple[int, str], tuple[int, str]] = {}
        for i, record in enumerate(records):
            if self.entries is not None:
                self.entries.add(record)
            self.freq.add(record)
            ids.append(record.id)
            given.append(record.given)
            surname.append(record.surname)
            masks.append(record.given_mask)
            joined.append(hash(record.joined))
            org_ids.append(record.org_id)
            org_key.append(0 if record.org_key is None else key_index.setdefault(record.org_key, len(key_index) + 1))
            domains.append(sys.intern(record.domain))
            flags.append(
                bool(record.middle)
                | (record.org_id in record.reviewed) << 1
                | bool(record.verified_domains) << 2
                | record.simple << 3
            )
            if record.middle:
                self.middles[i] = record.middle
            email = _compact(record)
            self.names.append(record.name)
            self.emails.append(email)
            if email is None:
                self.whole[i] = record
                self.org_entries.append(None)
            else:
                entry = next(iter(record.organizations.items()), None)
                self.org_entries.append(entry and entry_index.setdefault(entry, entry))
        self.org_key_names += list(key_index)
        self.ids = np.frombuffer(ids, dtype=np.int64)
        self.given = np.array(given, dtype=object)
        self.surname = np.array(surname, dtype=object)
        self.domains = np.array(domains, dtype=object)
        self.masks = np.frombuffer(masks, dtype=np.int64)
        self.joined = np.frombuffer(joined, dtype=np.int64)
        self.org_ids = np.frombuffer(org_ids, dtype=np.int64)
        self.org_key = np.frombuffer(org_key, dtype=np.int32)
        bits = np.frombuffer(flags, dtype=np.int8)
        self.has_middle, self.reviewed = (bits & 1) != 0, (bits & 2) != 0
        self.verified, self.simple = (bits & 4) != 0, (bits & 8) != 0

    def __len__(self) -> int:
        return len(self.ids)

    def blocks(self) -> Blocks:
        """The blocks of the records (built with `blocking`); once."""
        assert self.entries is not None, "a table built without blocking"
        blocks = self.entries.blocks()
        self.entries = None
        return blocks

    def record(self, i: int) -> PersonRecord:
        """The record at position `i`, as it was given (rebuilt from its columns, its name not parsed again)."""
        whole = self.whole.get(i)
        if whole is not None:
            return whole
        email = self.emails[i]
        entry = self.org_entries[i]
        given, surname = self.given[i], self.surname[i]
        words = (given, *self.middles.get(i, ()), surname) if given else (surname,) if surname else ()
        return PersonRecord(
            id=int(self.ids[i]),
            name=self.names[i],
            words=words,
            email_keys=frozenset({email}) if email else EMPTY,
            organizations=dict([entry]) if entry else {},
            reviewed=frozenset({entry[0]}) if entry and self.reviewed[i] else EMPTY,
            verified_domains=frozenset({email.rpartition("@")[2]}) if email and self.verified[i] else EMPTY,
        )
