"""Feature packages. Every module or package here that exposes a ``feature`` attribute is loaded at start."""
