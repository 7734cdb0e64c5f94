"""`python -m zoo.bench ARGS` is `zoo bench ARGS`."""

import sys

from zoo.cli import main

main(["bench", *sys.argv[1:]])
