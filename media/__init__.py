"""The media engine (the SFU): rooms, participants, forwarding, recording tap, media worker processes.

May import `remote_check` (core), `recordings` and `scheduler`; never `web` nor any aiohttp web module.
"""
