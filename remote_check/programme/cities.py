"""The 21 prefecture-level cities of Guangdong with their GB/T 2260 codes."""

from __future__ import annotations

from typing import NamedTuple


class CityRef(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    in_round: bool


CITIES: tuple[CityRef, ...] = (
    CityRef("4401", "广州", "Guangzhou", True),
    CityRef("4402", "韶关", "Shaoguan", True),
    CityRef("4403", "深圳", "Shenzhen", False),  # not in the 2020 round
    CityRef("4404", "珠海", "Zhuhai", True),
    CityRef("4405", "汕头", "Shantou", True),
    CityRef("4406", "佛山", "Foshan", True),
    CityRef("4407", "江门", "Jiangmen", True),
    CityRef("4408", "湛江", "Zhanjiang", True),
    CityRef("4409", "茂名", "Maoming", True),
    CityRef("4412", "肇庆", "Zhaoqing", True),
    CityRef("4413", "惠州", "Huizhou", True),
    CityRef("4414", "梅州", "Meizhou", True),
    CityRef("4415", "汕尾", "Shanwei", True),
    CityRef("4416", "河源", "Heyuan", True),
    CityRef("4417", "阳江", "Yangjiang", True),
    CityRef("4418", "清远", "Qingyuan", True),
    CityRef("4419", "东莞", "Dongguan", True),
    CityRef("4420", "中山", "Zhongshan", True),
    CityRef("4451", "潮州", "Chaozhou", True),
    CityRef("4452", "揭阳", "Jieyang", True),
    CityRef("4453", "云浮", "Yunfu", True),
)

BY_CODE = {city.code: city for city in CITIES}
BY_NAME = {**{c.name_zh: c for c in CITIES}, **{c.name_en.lower(): c for c in CITIES}}
