"""Built-in backends; each registers through the ``hybridbench.backends`` entry points."""
