"""Server-rendered pages, zh-CN first with an English switch."""
