"""Check sessions: booking, their life, guests, timed jobs; and what follows seats (``access``), the demo.

May import `remote_check` (core) only; never `recordings`, `media` nor `web`.
"""
