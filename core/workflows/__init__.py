"""Orchestrations over the pieces of the core: the injection scan (and, in core.demo, the demo)."""
