"""Training data with no download: the built-in synthetic tasks, CSV time series, and the
data description and scaling saved with a trained model."""
