"""The pieces of `zoo bench` (driven by `zoo.bench`): one module per benchmark section plus
the timing, machine and report helpers they share. Nothing here is imported by `zoo list`.
"""
