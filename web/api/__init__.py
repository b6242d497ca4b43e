"""The JSON API: explicit request and response shapes, described at ``/api/openapi.json``.

May import every layer below `web` and `web`'s helpers; handlers parse, call a service, shape the answer.
"""
