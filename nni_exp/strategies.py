"""hypothesis strategies for NNI experiments."""


def _register_type_strategies() -> None:
    """Entry point of the ``hypothesis`` group: registers strategies for nni-exp's types."""
