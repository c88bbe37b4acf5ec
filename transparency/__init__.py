"""A generic append-only Merkle log (RFC 6962 hashing, C2SP tlog-tiles, signed-note checkpoints)."""
