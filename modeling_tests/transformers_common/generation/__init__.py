"""transformers' tests/generation/, vendored (see ../README.md)."""
