"""The aiohttp app: factory, middlewares, request helpers (`inputs`, `uploads`, `session_facts`).

May import every layer below (`remote_check`, `scheduler`, `recordings`, `media`); only the CLI imports it.
"""
