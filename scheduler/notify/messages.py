"""The words of each notice: Chinese first, then English; times in Asia/Shanghai. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from remote_check.clock import format_local
from remote_check.errors import Message
from scheduler.notify.models import Kind


@dataclass(frozen=True)
class Notice:
    """What one notice says about one session, to one person (or a city's group)."""

    kind: Kind
    session_id: int
    version: int
    project_code: str
    enterprise: str
    supplier: str
    city: Message
    starts_at: dt.datetime
    ends_at: dt.datetime
    recipient_name: str
    link: str  # where the recipient joins (a guest's signed link, or the session's page)
    test_link: str  # the connectivity test


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str  # the e-mail's plain text
    markdown: str  # for the WeCom robot


HEADLINES: dict[Kind, Message] = {
    Kind.INVITATION: Message("远程核查会议邀请", "Invitation to a remote check"),
    Kind.CONNECTIVITY: Message("请在会议前完成网络与设备测试", "Test your connection before the check"),
    Kind.REMINDER: Message("远程核查会议即将开始", "The remote check starts soon"),
    Kind.NO_SHOW: Message(
        "企业或服务商未进入会议室：请确认是否不配合",
        "Nobody from the enterprise or supplier came: confirm obstruction?",
    ),
    Kind.CANCEL: Message("远程核查会议已取消", "The remote check has been cancelled"),
}
UPDATED = Message("远程核查会议时间变更", "The remote check has been rescheduled")


def headline(notice: Notice) -> Message:
    if notice.kind == Kind.INVITATION and notice.version > 1:
        return UPDATED
    return HEADLINES[notice.kind]


def _when(notice: Notice) -> str:
    return f"{format_local(notice.starts_at)}–{format_local(notice.ends_at)[-5:]}"


def _body(notice: Notice) -> tuple[list[str], list[str]]:
    when = _when(notice)
    zh = [
        f"{notice.recipient_name}：您好！" if notice.recipient_name else "您好！",
        f"项目 {notice.project_code}（{notice.enterprise}，服务商 {notice.supplier}，{notice.city.zh}）",
        f"时间：{when}（北京时间）",
    ]
    en = [
        f"Dear {notice.recipient_name}," if notice.recipient_name else "Hello,",
        f"Project {notice.project_code} ({notice.enterprise}, supplier {notice.supplier}, {notice.city.en})",
        f"Time: {when} China time",
    ]
    if notice.kind == Kind.INVITATION:
        zh.append("请按时通过以下链接进入会议室（会议开始前可进入），日历邀请见附件。")
        en.append("Join by the link below when the room opens; the calendar invitation is attached.")
    elif notice.kind == Kind.CONNECTIVITY:
        zh.append("请在会议前一天用以下链接测试摄像头、麦克风、屏幕共享和网络。")
        en.append("Please test your camera, microphone, screen sharing and network with the link below.")
    elif notice.kind == Kind.REMINDER:
        zh.append("会议即将开始，请通过以下链接进入会议室。")
        en.append("The check starts soon; join by the link below.")
    elif notice.kind == Kind.NO_SHOW:
        zh.append("会议开始后企业和服务商均未进入会议室。请在会议页面确认是否登记为不配合（缺席）。")
        en.append(
            "Nobody from the enterprise or the supplier has entered the room since the start. "
            "Please confirm on the session's page whether to record obstruction (no-show)."
        )
    else:
        zh.append("本次会议已取消，原链接不再有效。")
        en.append("This check has been cancelled; its links no longer work.")
    return zh, en


def compose(notice: Notice) -> Composed:
    """The subject and the texts of ``notice``."""
    title = headline(notice)
    zh, en = _body(notice)
    link = notice.test_link if notice.kind == Kind.CONNECTIVITY else notice.link
    show_link = notice.kind != Kind.CANCEL and link
    link_lines = [f"链接 / Link: {link}"] if show_link else []
    text = "\n".join([*zh, "", *en, "", *link_lines, ""])
    subject = f"【{title.zh}】{notice.project_code} {format_local(notice.starts_at)} / {title.en}"
    markdown = "\n".join(
        [
            f"**{title.zh}** {title.en}",
            f"> 项目 Project: {notice.project_code}",
            f"> 企业 Enterprise: {notice.enterprise}",
            f"> 服务商 Supplier: {notice.supplier}",
            f"> 时间 Time: {_when(notice)}",
            *([f"[会议页面 Session page]({link})"] if show_link else []),
        ]
    )
    return Composed(subject, text, markdown)
