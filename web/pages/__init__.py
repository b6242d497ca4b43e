"""Server-rendered pages, zh-CN first with an English switch.

May import the services of every layer below `web` and `web`'s helpers; never `web.api`.
"""
