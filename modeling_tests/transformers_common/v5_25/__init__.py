"""transformers 5.25.0's common tests (see ../README.md)."""
