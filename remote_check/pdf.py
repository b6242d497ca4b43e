"""PDF documents in Chinese: a CJK font found on the machine and embedded (subset) by fpdf2.

The font comes from the system (``scripts/system-deps`` installs Debian's ``fonts-wqy-zenhei``);
:func:`cjk_font` looks in the usual places, :func:`document` makes an A4 document that writes with
it. A machine without any of them gets a :class:`~remote_check.errors.DomainError` (503) saying
which package to install, never a PDF of empty boxes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from remote_check.errors import DomainError, Message

FONT_FAMILY = "cjk"


@dataclass(frozen=True)
class FontFile:
    """A TrueType font or collection, and the face to use in it."""

    path: Path
    index: int = 0


CANDIDATES = (
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),  # fonts-wqy-zenhei
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),  # fonts-wqy-microhei
    FontFile(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),  # fonts-noto-cjk (SC)
    FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc")),  # fonts-arphic-uming
)

MISSING = Message(
    "服务器未安装中文字体，无法生成 PDF（请安装 fonts-wqy-zenhei）",
    "No Chinese font is installed on the server: the PDF cannot be made (install fonts-wqy-zenhei)",
)


def cjk_font(candidates: tuple[FontFile, ...] = CANDIDATES) -> FontFile:
    """The first CJK font of ``candidates`` present on this machine."""
    for font in candidates:
        if font.path.is_file():
            return font
    raise DomainError(MISSING, 503, "no_font")


class Document(FPDF):
    """An A4 portrait document writing in the CJK font, with page numbers in the footer."""

    def __init__(self, title: str, font: FontFile | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        found = font or cjk_font()
        # fontTools names every table it does not subset; none of them matters for a document.
        logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
        # One face only: parsing the collection is most of a document's time (a second, "bold",
        # registration of the same file would double it); headings stand out by size instead.
        self.add_font(FONT_FAMILY, "", str(found.path), collection_font_number=found.index)
        self.set_title(title)
        self.set_creator("Remote Check")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.add_page()
        self.set_font(FONT_FAMILY, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, size=8)
        self.cell(0, 8, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")

    def heading(self, text: str, size: float = 14) -> None:
        """A heading on a line of its own."""
        self.set_font(FONT_FAMILY, size=size)
        self.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)
        self.set_font(FONT_FAMILY, size=10)

    def paragraph(self, text: str, size: float = 10) -> None:
        """Wrapped text on lines of its own."""
        self.set_font(FONT_FAMILY, size=size)
        self.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        """The finished document."""
        return bytes(self.output())
