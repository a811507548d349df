"""pytest plugin of nni-exp (registered through the ``pytest11`` entry point)."""
