"""Trained models on disk: the checkpoint format (safetensors and JSON, never pickle) and
the train state that `zoo train --resume` continues from."""
