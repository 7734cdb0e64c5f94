"""Training: settings and results, the loop (one process or a DDP job), its launcher and
progress reporting."""
