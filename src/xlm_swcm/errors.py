# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The one error type of the library: bad input or a refused step, told in one line that says what to do."""

__all__ = ["XLMSWCMError"]


class XLMSWCMError(ValueError):
    """A problem the user can fix, in one line. A command prints it after its name and exits with `exit_code`: 2 for
    bad input (nothing was done), 1 when a step failed on the way (the disk, the network, the Hub).

    Example:
        >>> error = XLMSWCMError("--dtype 'int8' is not one of auto, float32, bfloat16, float16.")
        >>> error.exit_code, str(error)
        (2, "--dtype 'int8' is not one of auto, float32, bfloat16, float16.")
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
