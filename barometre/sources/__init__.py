"""One module per source: pure ``parse(raw: bytes, …) -> DataFrame`` functions, no I/O."""
