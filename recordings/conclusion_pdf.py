"""The conclusion form (核查意见表) as a PDF, in Chinese with the font embedded; each checklist
item's moments link to the replay."""

from __future__ import annotations

import datetime as dt

from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from recordings.conclusion import NONE, ConclusionForm
from remote_check.clock import format_local
from remote_check.pdf import FONT_FAMILY, Document

HEAD = FontFace(fill_color=(235, 235, 235))  # the CJK face has no bold: headings are shaded
LINK = FontFace(color=(0, 0, 200))


def _when(at: dt.datetime | None) -> str:
    return format_local(at) if at is not None else ""


def _facts(pdf: Document, form: ConclusionForm) -> None:
    rows = [
        ("项目编号", form.project_code),
        ("项目名称", form.project_name),
        ("所在城市", form.city),
        ("工业企业", form.enterprise),
        ("服务商", form.supplier),
        ("产品", form.product),
        ("合同金额", form.contract_amount),
        ("服务券金额", form.voucher_amount),
        (
            "核查会议",
            f"#{form.session_id} · {_when(form.session_starts_at)}（北京时间）"
            + ("· 缺席" if form.no_show else "")
            if form.session_id is not None
            else NONE,
        ),
    ]
    with pdf.table(
        col_widths=(30, 150), first_row_as_headings=False, text_align="LEFT", wrapmode=WrapMode.CHAR
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=HEAD)
            row.cell(value)
    pdf.ln(3)


def _checklist(pdf: Document, form: ConclusionForm) -> None:
    pdf.heading("一、核查清单及结果", 12)
    if not form.items:
        pdf.paragraph(NONE)
        return
    with pdf.table(
        col_widths=(12, 20, 60, 16, 44, 28),
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,
        headings_style=HEAD,
        line_height=5,
    ) as table:
        table.row(["编号", "标准", "核查项", "结果", "说明", "录像时刻"])
        for item in form.items:
            row = table.row()
            row.cell(item.code)
            row.cell(item.standard)
            row.cell(item.title)
            row.cell(item.result)
            row.cell(item.notes)
            if item.moments:
                first = item.moments[0]
                text = "、".join(m.text for m in item.moments)
                row.cell(text, link=first.url, style=LINK)
            else:
                row.cell(NONE)
    pdf.ln(3)


def _opinions(pdf: Document, form: ConclusionForm) -> None:
    pdf.heading("二、专家意见", 12)
    if not form.experts:
        pdf.paragraph("无（未到场或不配合，不需专家意见）" if form.no_show else NONE)
        return
    with pdf.table(
        col_widths=(28, 50, 50, 52),
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,
        headings_style=HEAD,
        line_height=5,
    ) as table:
        table.row(["专家", *(o.standard for o in form.experts[0].opinions)])
        for expert in form.experts:
            row = table.row()
            row.cell(f"{expert.name}{'（组长）' if expert.lead else ''}")
            for opinion in expert.opinions:
                text = opinion.passed or "未给出"
                if opinion.reasons:
                    text += f"：{opinion.reasons}"
                if opinion.at is not None:
                    text += f"\n{_when(opinion.at)}"
                row.cell(text)
    pdf.ln(3)


def _conclusion(pdf: Document, form: ConclusionForm) -> None:
    pdf.heading("三、核查结论", 12)
    lines = [f"结论：{form.outcome or '尚未提出'}（{form.state}）"]
    if form.violation:
        lines.append(f"违规情形：{form.violation}")
    if form.description:
        lines.append(f"情形描述：{form.description}")
    if form.reasons:
        lines.append(f"理由：{form.reasons}")
    if form.return_note:
        lines.append(f"退回意见：{form.return_note}")
    for line in lines:
        pdf.paragraph(line)
    pdf.ln(2)
    pdf.heading("四、签署", 12)
    signed = [
        f"核查组组长：{form.proposed_by or form.lead or NONE}    提出时间：{_when(form.proposed_at) or NONE}",
        f"专家组成员：{'、'.join(e.name for e in form.experts) or NONE}",
        f"地市协调员（确认）：{form.confirmed_by or NONE}    确认时间：{_when(form.confirmed_at) or NONE}",
    ]
    for line in signed:
        pdf.paragraph(line)
    if form.suggestions:
        pdf.ln(2)
        pdf.heading("五、专家建议及发现的问题", 12)
        for topic, text, author in form.suggestions:
            pdf.paragraph(f"【{topic}】{text}（{author}）")


def conclusion_pdf(form: ConclusionForm, made_at: dt.datetime) -> bytes:
    """The form as a PDF document."""
    title = f"核查意见表 · {form.project_code}"
    pdf = Document(title)
    pdf.heading("广东省工业企业“上云上平台”服务券抽查 核查意见表", 15)
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.paragraph(f"生成时间：{_when(made_at)}（北京时间）{'' if form.final else ' · 草稿：结论尚未确认'}", 8)
    pdf.ln(2)
    _facts(pdf, form)
    _checklist(pdf, form)
    _opinions(pdf, form)
    _conclusion(pdf, form)
    return pdf.bytes()
