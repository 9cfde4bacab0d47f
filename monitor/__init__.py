"""drift-monitor: watch open-weight LLM repositories and report, with evidence, when a model changes."""

__version__ = "0.1.0"
__all__ = ["__version__"]
