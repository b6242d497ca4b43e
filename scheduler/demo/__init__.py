"""Realistic synthetic data for trying the system out (``remote-check demo``).

In the scheduler, not the core, since loading it books sessions: it may import `remote_check`, `scheduler`.
"""
