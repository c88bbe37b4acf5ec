"""Per-letter count aggregates folded from SignatureEvents. Filled in by the reporter work."""


def letter_counts_refresh() -> int:
    return 0


def letter_counts_reconcile() -> int:
    return 0
