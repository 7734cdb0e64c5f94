"""The proof: parity cases and inputs, the elementwise comparison and its report, the
task-metric verdict for lossy formats, and the forward-contract checks."""
