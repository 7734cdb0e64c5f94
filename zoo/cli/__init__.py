"""Public: the `zoo` command line. `main` is the console script; `create_cli` builds the
click group (with the plugins' commands) for tests and embedding."""

from zoo.cli._group import create_cli, main

__all__ = ["create_cli", "main"]
