"""How long a recording's stop spends hashing its files into the signed manifest.

    python -m bench.manifest_hash [--files 12] [--megabytes 90]

Writes ``--files`` files of ``--megabytes`` each (a six-person recording of 30 minutes at the room's
defaults is about 1.1 GB in 12-18 files), then times :func:`recordings.integrity.build_manifest`
(a file per core at once) against hashing them one after another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from recordings.integrity import build_manifest, folder_files, hash_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--megabytes", type=int, default=90)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rc-hash-") as name:
        folder = Path(name) / "part-1"
        folder.mkdir()
        block = os.urandom(1 << 20)
        for index in range(args.files):
            with (folder / f"p{index}-camera.mkv").open("wb") as out:
                for _ in range(args.megabytes):
                    out.write(block)
        total = args.files * args.megabytes
        started = time.perf_counter()
        for file in folder_files(folder):
            hash_file(folder / file)
        one_by_one = time.perf_counter() - started
        started = time.perf_counter()
        build_manifest(folder, "1", dt.datetime.now(dt.UTC))
        parallel = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(f"{args.files} files, {total} MB (in the page cache), {os.cpu_count()} cores, load {load:.1f}")
    print(f"one after another: {one_by_one:.2f} s ({total / one_by_one:.0f} MB/s)")
    print(f"build_manifest, a file per core: {parallel:.2f} s ({total / parallel:.0f} MB/s)")


if __name__ == "__main__":
    main()
