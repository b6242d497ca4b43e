"""The JSON API: explicit request and response shapes, described at ``/api/openapi.json``."""
