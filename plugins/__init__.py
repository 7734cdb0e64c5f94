"""Built-in architecture plugins, registered through the same hooks as third-party ones."""
