"""Alembic's environment (``env.py``, ``versions/``) and the joined metadata (``models.py``).

Like ``remote_check/cli.py``, this is a composition root: it may import every layer's models.
"""
