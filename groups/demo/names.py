"""Realistic Chinese names for the demo dataset: bases, operators, unions, people.

Every function is pure over the ``random.Random`` it is given, so the same seed
gives the same names. No Django imports.
"""

import datetime as dt
import random

from groups.demo.geography import City, County, Spot

# Theme key used in geography → (slug, name).
THEMES: dict[str, tuple[str, str]] = {
    "red": ("red-education", "红色教育"),
    "spring": ("hot-spring-wellness", "温泉康养"),
    "rural": ("rural-revitalisation", "乡村振兴"),
    "heritage": ("intangible-heritage", "非遗文化"),
    "eco": ("eco-hiking", "生态徒步"),
    "tea": ("tea-culture", "茶文化"),
    "hakka": ("hakka-culture", "客家文化"),
    "coast": ("coastal-leisure", "滨海休闲"),
    "model": ("model-worker", "劳模精神"),
}

# Base kind letters (geography.Spot.kinds) → Base.Kind values.
KIND_BY_LETTER = {
    "H": "hot_spring",
    "M": "homestay",
    "S": "sanatorium",
    "L": "scenic_lodge",
    "R": "rural_hotel",
    "E": "education",
}

# Guangdong's common surnames, most frequent first, with rough weights.
SURNAMES = (
    ("陈", 14), ("李", 9), ("黄", 9), ("张", 7), ("梁", 6), ("林", 6), ("刘", 6), ("吴", 5), ("罗", 4), ("杨", 4),
    ("何", 4), ("郑", 4), ("王", 4), ("周", 3), ("谢", 3), ("钟", 3), ("叶", 3), ("邓", 3), ("曾", 3), ("冯", 2),
    ("蔡", 2), ("赖", 2), ("余", 2), ("朱", 2), ("彭", 2), ("潘", 2), ("卢", 2), ("丘", 1), ("温", 1), ("廖", 1),
    ("赵", 1), ("徐", 1), ("胡", 1), ("苏", 1), ("许", 1), ("方", 1), ("江", 1), ("邱", 1), ("欧阳", 1), ("司徒", 1),
)
_SURNAME_NAMES = [name for name, _ in SURNAMES]
_SURNAME_WEIGHTS = [weight for _, weight in SURNAMES]
GIVEN_MALE = "伟强军明华建国志勇杰斌俊辉文锋亮海涛波东晓宇浩健新永德荣平辉峰嘉振鹏铭耀"
GIVEN_FEMALE = "芳敏静丽秀娟霞婷燕玲红梅雪慧颖洁琳萍倩艳欣怡佳美春桂月凤翠丹妍"


def person_name(rng: random.Random, gender: str | None = None) -> str:
    """A plausible Guangdong name; gender "M" or "F" (chosen at random if None)."""
    gender = gender or rng.choice("MF")
    surname = rng.choices(_SURNAME_NAMES, _SURNAME_WEIGHTS)[0]
    pool = GIVEN_MALE if gender == "M" else GIVEN_FEMALE
    given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
    return surname + given


def mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "137", "135", "136", "150", "158", "188", "189", "133", "180")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def landline(rng: random.Random, area_code: str) -> str:
    digits = 8 if area_code in {"020", "0755", "0769", "0757", "0754", "0760", "027", "028", "023"} else 7
    return f"{area_code}-{rng.randint(2, 8)}" + "".join(rng.choice("0123456789") for _ in range(digits - 1))


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id(rng: random.Random, *, division_code: str, birth_date: dt.date, gender: str) -> str:
    """An 18-digit resident ID number with a valid GB 11643 check digit (fictional person)."""
    sequence = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
    body = f"{division_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS)) % 11]


# ---- unions ---------------------------------------------------------------

_BRAND_FIRST = "华宏信恒立金嘉永新创联盛达德富丰鸿瑞泰晟骏捷誉锦源东南海中粤展卓凯"
_BRAND_SECOND = "达信泰丰盛科源辉进业力隆成昌裕荣兴润威通美华宇洋"


def brand(rng: random.Random) -> str:
    first = rng.choice(_BRAND_FIRST)
    second = rng.choice(_BRAND_SECOND.replace(first, ""))
    return first + second


def enterprise_union_name(rng: random.Random, *, place: str, industries: tuple[str, ...], institutions: bool = True) -> str:
    """E.g. "东莞市华信电子有限公司工会"; ``place`` is "东莞市" or "佛山市南海区".

    With ``institutions`` some are public institutions' unions (hospital, school, utilities).
    """
    roll = rng.random() if institutions else 1.0
    if roll < 0.07:
        return f"{place}人民医院工会"
    if roll < 0.12:
        return f"{place}第{rng.choice('一二三四五六')}中学工会"
    if roll < 0.17:
        return f"{place}{rng.choice(('供电局', '自来水有限公司', '公共交通有限公司', '邮政分公司'))}工会"
    suffix = rng.choices(("有限公司工会", "股份有限公司工会", "集团有限公司工会", "有限公司工会委员会"), (70, 12, 8, 10))[0]
    return f"{place}{brand(rng)}{rng.choice(industries)}{suffix}"


# ---- bases and operators --------------------------------------------------


def base_name(rng: random.Random, *, city: City, county: County | None, spot: Spot, kind_letter: str) -> str:
    """E.g. "河源万绿湖职工疗休养基地", "清远英德连江口温泉疗休养基地", "梅州雁南飞茶田度假基地"."""
    place = "" if spot.name.startswith(city.short) else city.short
    county_short = county.short if county else ""
    if county_short and not spot.name.startswith(county_short) and rng.random() < 0.4:
        place += county_short
    spot_name = spot.name
    if kind_letter == "H":
        if "温泉" not in spot_name and "矿泥" not in spot_name:
            spot_name += "温泉"
        return f"{place}{spot_name}{rng.choice(('疗休养基地', '职工疗休养基地', '康养度假基地'))}"
    if kind_letter == "M":
        flavour = "客家" if "hakka" in spot.themes else rng.choice(("乡村", "田园", "山居"))
        if spot_name.endswith(flavour):
            flavour = ""
        return f"{place}{spot_name}{flavour}民宿{rng.choice(('疗休养基地', '职工疗休养点', '集群疗休养基地'))}"
    if kind_letter == "S":
        return f"{place}{spot_name}{rng.choice(('职工疗养院', '工人疗养院'))}"
    if kind_letter == "L":
        return f"{place}{spot_name}{rng.choice(('职工疗休养基地', '职工疗休养基地', '景区疗休养基地'))}"
    if kind_letter == "R":
        return f"{place}{spot_name}{rng.choice(('度假基地', '乡村酒店疗休养基地', '生态度假村'))}"
    # education
    if "red" in spot.themes:
        return f"{place}{spot_name}红色教育疗休养基地"
    if "model" in spot.themes:
        return f"{place}{spot_name}劳模精神教育基地"
    return f"{place}{spot_name}研学疗休养基地"


def operator_name(rng: random.Random, *, city: City, spot: Spot, kind_letter: str) -> str:
    if kind_letter == "S":
        return f"{city.name}总工会{spot.name}疗养院"
    if kind_letter == "H":
        return f"{city.name}{spot.name.replace('温泉', '')}温泉度假村有限公司"
    if kind_letter == "M":
        return f"{city.name}{spot.name}民宿管理有限公司"
    return f"{city.name}{spot.name}{rng.choice(('旅游发展有限公司', '文化旅游有限公司', '生态旅游开发有限公司'))}"


def group_operator_name(rng: random.Random, *, city: City) -> str:
    """An operator that runs several bases."""
    return f"{city.name}{brand(rng)}{rng.choice(('康养旅游集团有限公司', '文旅投资有限公司', '职工疗休养服务有限公司'))}"


ROADS = ("环湖路", "迎宾大道", "温泉大道", "滨江路", "康乐路", "田园路", "建设路", "人民路", "旅游大道", "文化路", "生态路")

FACILITIES = ("会议室", "职工书屋", "健身房", "餐厅", "多功能厅", "篮球场", "茶室", "观景平台", "理疗室", "乒乓球室", "党建活动室")


def address(rng: random.Random, *, city: City, county: County | None, spot: Spot) -> str:
    area = f"{city.name}{county.name if county else ''}"
    return f"{area}{spot.name}{rng.choice(('景区', '旅游度假区', '风景区', ''))}{rng.choice(ROADS)}{rng.randint(1, 188)}号"


def base_description(
    rng: random.Random, *, name: str, city: City, county: County | None, spot: Spot,
    rooms: int, beds: int, theme_names: list[str],
) -> str:
    where = f"{city.name}{county.name if county else ''}{spot.name}"
    facilities = "、".join(rng.sample(FACILITIES, 4))
    themes = "、".join(theme_names) or "休闲康养"
    return (
        f"{name}位于{where}，距{city.short}市区约{rng.randint(8, 85)}公里。"
        f"基地现有客房{rooms}间、床位{beds}张，配套{facilities}等设施，"
        f"可同时接待{max(20, beds // 10 * 10)}人以内的职工疗休养团队。"
        f"周边自然和人文资源丰富，适合开展{themes}等主题疗休养活动。"
    )


def cn_number(n: int) -> str:
    return "零一两三四五六七八九十"[n] if n <= 10 else str(n)
