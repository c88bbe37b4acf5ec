"""The log's rows: entries with their leaf hashes, the hashes of complete 256-wide subtrees, and checkpoints.

Every table is append-only: the database refuses UPDATE and DELETE on them (triggers, migration 0002). One log per
deployment (docs/transparency.md says why); `LogHead` is its one row, locked to append and to checkpoint.
"""

from django.db import models


class LogHead(models.Model):
    """The one row serializing appends: the number of entries in the log."""

    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"log of {self.size} entries"


class Entry(models.Model):
    index = models.BigIntegerField(primary_key=True)
    data = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)
    appended_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"entry {self.index}"


class TileHash(models.Model):
    """The hash of the complete subtree of 2**level leaves at `index`, for level 8, 16, 24, … (tile levels 1, 2, …);
    level 0 is Entry.leaf_hash."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="tilehash_level_index_unique")]

    def __str__(self) -> str:
        return f"hash of level {self.level} at {self.index}"


class Checkpoint(models.Model):
    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField(help_text="The signed note as served.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]
        get_latest_by = "size"

    def __str__(self) -> str:
        return f"checkpoint at {self.size}"
