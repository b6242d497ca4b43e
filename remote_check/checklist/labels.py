"""The names of the notice's three standards (粤工信办函〔2020〕26号 二), defined once.

:data:`STANDARD_LABELS` names a standard wherever it is shown in full; :data:`STANDARD_SHORT`
heads the rows of the project page's small summary grid.
"""

from __future__ import annotations

from remote_check.checklist.models import Standard
from remote_check.errors import Message

STANDARD_LABELS: dict[Standard, Message] = {
    Standard.IMPLEMENTATION: Message("实施真实", "Real implementation"),
    Standard.FINANCE: Message("财务规范", "Sound finances"),
    Standard.FUNCTION: Message("功能完整", "Complete functions"),
}

STANDARD_SHORT: dict[Standard, Message] = {
    Standard.IMPLEMENTATION: Message("实施", "Implementation"),
    Standard.FINANCE: Message("财务", "Finances"),
    Standard.FUNCTION: Message("功能", "Functions"),
}
