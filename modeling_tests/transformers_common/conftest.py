"""The vendored transformers files hold mixins, not tests of their own: pytest does not collect them."""

collect_ignore_glob = ["test_*.py", "*/test_*.py"]
