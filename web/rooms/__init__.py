"""The rooms' HTTP edge: admission (who enters a session's room as what), the signalling WebSocket,
the room pages and sockets. The media engine itself is :mod:`media`.

May import every layer below `web`, and `web`'s own helpers and `web.pages.common`; never `web.api`.
"""
