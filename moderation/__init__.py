"""Moderation at scale: bulk invalidation of signatures by criteria, with preview, progress, cancel and undo."""
