"""NExT-Kaffee (issue 18.1): regular pairing across communities.

So far only the pure pairing logic exists (``pairing.py``); the feature (opt-in commands, ``[coffee]``
settings, scheduled runs, intro chats) is not declared yet, so the loader skips this package.
"""
