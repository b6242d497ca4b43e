"""``python -m remote_check.imports.template``: rewrite the shipped template files."""

from remote_check.imports.template import write

for path in write():
    print(path)
