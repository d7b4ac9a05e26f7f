"""Functions that exercise the runtime under threads, callbacks, panics,
interrupts and deep recursion (tests/test_reliability.py)."""
