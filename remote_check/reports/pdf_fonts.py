"""Where a CJK font for the PDFs is found (a minimal lookup; the lead merges it with the shared
``remote_check/pdf.py`` of the verdict work).

``scripts/system-deps`` installs Debian's ``fonts-wqy-zenhei``: a TrueType collection whose first
face fpdf2 embeds (as a subset of the glyphs used), so the Chinese text is in the file and can be
extracted. ``RC_PDF_FONT`` names another TTF/TTC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from remote_check.errors import DomainError, Message

CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
)


@dataclass(frozen=True)
class FontFile:
    path: Path
    collection_number: int = 0  # the face of a .ttc collection


def cjk_font() -> FontFile:
    """The first CJK font found (``RC_PDF_FONT`` first); a 503 naming the package if there is none."""
    named = os.environ.get("RC_PDF_FONT")
    for path in [Path(named)] if named else list(CANDIDATES):
        if path.is_file():
            return FontFile(path)
    raise DomainError(
        Message(
            "服务器未安装中文字体，无法生成PDF（请安装 fonts-wqy-zenhei）",
            "No CJK font on the server: the PDF cannot be made (install fonts-wqy-zenhei)",
        ),
        503,
        "no_cjk_font",
    )
