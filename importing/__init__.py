"""Bringing signatures in: spreadsheet imports (read, map, preview, run as a job, undo) and invitations."""
