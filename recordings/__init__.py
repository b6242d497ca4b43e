"""Recordings: the session clock, the writer, the signed manifest, replays, marks and stills, evidence.

May import `remote_check` (core) and `scheduler` (a part belongs to a session); never `media` nor `web`.
"""
