"""transformers 5.24.0's common tests (see ../README.md)."""
