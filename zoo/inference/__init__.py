"""A trained model put to use: evaluate, predict and inspect it on data, with the metrics
training also reports and the pictures of both."""
