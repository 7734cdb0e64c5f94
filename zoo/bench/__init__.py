"""`zoo bench`: every benchmark, one module per section, timed side by side in one run
(`python -m zoo.bench` is `zoo bench`)."""
