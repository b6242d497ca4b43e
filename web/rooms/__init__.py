"""Rooms: video calls hosted by the server as a selective forwarding unit (SFU).

Each participant has one ``RTCPeerConnection`` with the server. What a participant publishes
(camera, microphone, screen) arrives as RTP, is depacketized into encoded frames and forwarded
as they are to every other participant: the server never decodes nor encodes media.

Pure logic (SDP edits, slot planning, keyframe throttling, timelines, the signalling
protocol) lives in modules without I/O; ``internals`` is the one place that touches private
details of aiortc and aioice; ``forwarding``, ``participant``, ``room`` and ``host`` run the
asyncio side. ``moderation`` decides who may do what (waiting room, mute, floor, capacity, one
connection per person); ``room`` enforces it. ``admission`` decides who enters a check session's
room as what (log-in or signed link); ``signalling`` is the WebSocket loop; ``session_views``
the session's room page and sockets; ``views`` the development page and its socket.
"""
