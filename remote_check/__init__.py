"""The core domain (accounts, audit, programme, campaigns, checklist, experts, imports), the command line.

Imports no other layer; only `cli.py` and `migrations/` (the composition roots) import every layer.
"""
