"""A report as a PDF (A4 landscape, Chinese glyphs embedded): the heading, its facts, then each
table in the province's column order with its totals row; the same lists as the XLSX."""

from __future__ import annotations

import logging

from fpdf import FPDF
from fpdf.fonts import FontFace

from remote_check.clock import format_local
from remote_check.pdf import FONT_FAMILY as FONT
from remote_check.pdf import cjk_font
from remote_check.reports.content import Report, Section, cell_text, has_totals, totals

PLAIN = FontFace(emphasis="")  # the font has one face: headings are shaded, not bold
SHADE = (230, 230, 230)

# fontTools reports each table it does not subset (a bitmap font's) at WARNING: that is not ours.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


def _document(report: Report) -> FPDF:
    font = cjk_font()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(report.made_at)
    pdf.set_title(report.heading)
    pdf.set_creator("remote-check")
    pdf.add_font(FONT, "", str(font.path), collection_font_number=font.index)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    return pdf


def _section(pdf: FPDF, section: Section) -> None:
    table = section.table
    pdf.ln(4)
    pdf.set_font(FONT, size=12)
    pdf.cell(text=table.zh, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    widths = tuple(c.width for c in table.columns)
    with pdf.table(
        col_widths=widths,
        headings_style=FontFace(emphasis="", fill_color=SHADE),
        line_height=5,
        text_align="LEFT",
    ) as grid:
        header = grid.row()
        for column in table.columns:
            header.cell(column.zh)
        for row in section.rows:
            line = grid.row()
            for column in table.columns:
                line.cell(cell_text(column, row.get(column.key)))
        if not section.rows:
            grid.row().cell("（无）", colspan=len(table.columns))
        if has_totals(table):
            total = totals(table, section.rows)
            line = grid.row(style=FontFace(emphasis="", fill_color=SHADE))
            for column in table.columns:
                line.cell(cell_text(column, total.get(column.key)))


def report_pdf(report: Report) -> bytes:
    """The PDF's bytes (its text extracts back with the Chinese intact)."""
    pdf = _document(report)
    pdf.set_font(FONT, size=15)
    pdf.multi_cell(0, 8, report.heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    facts = [("生成时间", format_local(report.made_at)), *report.facts]
    for label, value in facts:
        pdf.cell(text=f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    for section in report.sections:
        _section(pdf, section)
    return bytes(pdf.output())
