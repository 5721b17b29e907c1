"""solid-bench: a benchmark harness for intent prediction in information-seeking dialogs."""

__version__ = "0.1.0"
