"""`python -m zoo` (torchrun uses `-m zoo`)."""

from zoo.cli import main

main()
