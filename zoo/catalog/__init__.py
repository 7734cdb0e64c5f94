"""The catalogue of named models: registry files, their parse cache, the session that
resolves a name to an architecture and config, the source model behind it, and `register`."""
