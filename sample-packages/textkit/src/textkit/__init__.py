"""textkit: words in and out of compiled SPy, as Python's lists, dicts, tuples and bytes."""
