"""Participant files: reading CSV/XLSX into checked rows, writing them back. No database.

``read_participant_file`` returns every row it could read and every problem,
each with the line number of the file (the header is line 1), so the service
can refuse the whole file when anything is wrong. Cells never echo a full ID
number back in a message.
"""

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from groups.identity import InvalidResidentId, ResidentId, parse_resident_id
from groups.models import Participant

MAX_ROWS = 5000
MAX_FILE_BYTES = 5 * 1024 * 1024

COLUMNS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "id_number"),
    "phone": ("手机", "手机号", "联系电话", "phone"),
    "gender": ("性别", "gender"),
    "employer": ("工作单位", "单位", "employer"),
    "job_title": ("岗位", "职务", "job_title"),
    "category": ("类别", "人员类别", "category"),
    "family_of": ("随行职工身份证号", "family_of"),
}
REQUIRED = ("name", "id_number", "phone", "employer", "category")
EXPORT_HEADER = ["姓名", "身份证号", "手机", "性别", "工作单位", "岗位", "类别", "随行职工身份证号", "房间"]

_PHONE = re.compile(r"(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})\Z")
_GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
# A file names a category by its Chinese label (the msgid) or by its value, whatever the reader's language.
with translation.override(None):
    _CATEGORY_NAMES = [str(label) for _value, label in Participant.Category.choices]
_CATEGORIES = dict(zip(_CATEGORY_NAMES, Participant.Category.values, strict=True)) | {
    value: value for value in Participant.Category.values
}


@dataclass(frozen=True)
class ParticipantRow:
    line: int
    name: str
    resident: ResidentId
    phone: str
    gender: str
    employer: str
    job_title: str
    category: str
    family_of_number: str  # the accompanied worker's ID number, or ""


@dataclass(frozen=True)
class RowProblem:
    line: int
    problems: list[str]


class UnreadableFile(ValueError):
    """The whole file is refused; ``line`` is where reading stopped (1: the file or its header)."""

    def __init__(self, message: str, *, line: int = 1):
        super().__init__(message)
        self.line = line


def read_participant_file(*, content: bytes, filename: str, today: dt.date) -> tuple[list[ParticipantRow], list[RowProblem]]:
    if len(content) > MAX_FILE_BYTES:
        raise UnreadableFile(_("文件超过 %(mb)s MB") % {"mb": MAX_FILE_BYTES // 1024 // 1024})
    lines = _xlsx_lines(content) if filename.lower().endswith(".xlsx") else _csv_lines(content)
    try:
        header_line, header = next(lines)
    except StopIteration:
        raise UnreadableFile(_("文件为空")) from None
    columns = _column_positions(header)
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in columns]
    if missing:
        raise UnreadableFile(_("第 %(line)s 行表头缺少列：%(columns)s") % {"line": header_line, "columns": _("、").join(missing)})

    rows: list[ParticipantRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            raise UnreadableFile(_("超过 %(max)s 行") % {"max": MAX_ROWS})
        values = {name: (cells[position].strip() if position < len(cells) else "") for name, position in columns.items()}
        row, row_problems = _check_row(line, values, today)
        if row is not None and row.resident.number in seen:
            row_problems.append(_("身份证号与第 %(line)s 行重复") % {"line": seen[row.resident.number]})
        if row_problems:
            problems.append(RowProblem(line, row_problems))
        else:
            seen[row.resident.number] = line
            rows.append(row)
    if not rows and not problems:
        raise UnreadableFile(_("文件中没有人员"))
    return rows, problems


_TEXT_LABELS = {"name": gettext_lazy("姓名"), "employer": gettext_lazy("工作单位"), "job_title": gettext_lazy("岗位")}


def _has_hidden_characters(text: str) -> bool:
    """Control characters and bidirectional overrides: invisible on the sign-in sheet, able to disguise a name."""
    return any(unicodedata.category(ch) == "Cc" or "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in text)


def _check_row(line: int, values: dict[str, str], today: dt.date) -> tuple[ParticipantRow | None, list[str]]:
    problems: list[str] = [
        _("%(field)s含有不可见的控制字符") % {"field": label}
        for field, label in _TEXT_LABELS.items()
        if _has_hidden_characters(values.get(field, ""))
    ]
    name = values["name"]
    if not name:
        problems.append(_("姓名为空"))
    elif len(name) > 40:
        problems.append(_("姓名超过 40 字"))
    resident = None
    try:
        resident = parse_resident_id(values["id_number"], today=today)
    except InvalidResidentId as error:
        problems.append(str(error))
    phone = values["phone"].replace(" ", "")
    if not _PHONE.match(phone):
        problems.append(_("手机号 %(phone)s 格式错误") % {"phone": phone or _("（空）")})
    gender_text = values.get("gender", "")
    gender = _GENDERS.get(gender_text.lower()) if gender_text else (resident.gender if resident else None)
    if gender_text and gender is None:
        problems.append(_("性别 %(gender)s 无法识别，应为 %(allowed)s") % {"gender": gender_text, "allowed": "男/女"})
    elif resident and gender and gender != resident.gender:
        problems.append(_("性别与身份证号不符"))
    employer = values["employer"]
    if not employer:
        problems.append(_("工作单位为空"))
    category = _CATEGORIES.get(values["category"]) or _CATEGORIES.get(values["category"].lower())
    if category is None:
        problems.append(_("类别 %(category)s 无效，应为：%(allowed)s") % {
            "category": values["category"] or _("（空）"), "allowed": _("、").join(_CATEGORY_NAMES),
        })
    family_of = values.get("family_of", "").upper()
    if family_of and category != Participant.Category.FAMILY:
        problems.append(_("只有家属可填写随行职工身份证号"))
    if category == Participant.Category.FAMILY and not family_of:
        problems.append(_("家属须填写随行职工身份证号"))
    if problems:
        return None, problems
    return (
        ParticipantRow(
            line=line, name=name, resident=resident, phone=phone, gender=gender, employer=employer[:120],
            job_title=values.get("job_title", "")[:60], category=category, family_of_number=family_of,
        ),
        [],
    )


def _column_positions(header: list[str]) -> dict[str, int]:
    aliases = {alias.lower(): name for name, names in COLUMNS.items() for alias in names}
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        name = aliases.get(title.strip().lower())
        if name and name not in positions:
            positions[name] = position
    return positions


def _csv_lines(content: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("无法识别文件编码，请使用 UTF-8 或 GBK"))
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a NUL byte, a cell over the csv module's field limit, ...
            raise UnreadableFile(
                _("第 %(line)s 行无法读取，请检查文件是否为 CSV（%(error)s）") % {"line": reader.line_num, "error": error},
                line=reader.line_num,
            ) from None
        yield reader.line_num, cells


def _xlsx_lines(content: bytes):
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise UnreadableFile(_("无法读取 Excel 文件：%(error)s") % {"error": type(error).__name__}) from None
    if not workbook.worksheets:
        raise UnreadableFile(_("Excel 文件中没有工作表"))
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    line = 0
    try:
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a damaged sheet fails while it is read
                raise UnreadableFile(
                    _("Excel 文件第 %(line)s 行无法读取：%(error)s") % {"line": line + 1, "error": type(error).__name__},
                    line=line + 1,
                ) from None
            line += 1
            yield line, [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # An 18-digit number stored as a number has lost its last digits; keep it visibly wrong.
        return repr(value) if not value.is_integer() or abs(value) >= 2**53 else str(int(value))
    return str(value)


def _safe_cell(value: str) -> str:
    """Spreadsheet programs run cells starting with these characters as formulas."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def export_rows(participants, *, full_ids: bool, decrypt) -> list[list[str]]:
    """``decrypt`` turns a participant into their full ID number; used only when ``full_ids``.

    Gender and category are written in the file format's language (Chinese, like the header),
    whatever the reader's, so that an exported list imports again."""
    numbers = {p.pk: (decrypt(p) if full_ids else p.id_masked) for p in participants}
    with translation.override(None):
        return [
            [
                _safe_cell(p.name), numbers[p.pk], _safe_cell(p.phone), str(p.get_gender_display()),
                _safe_cell(p.employer), _safe_cell(p.job_title), str(p.get_category_display()),
                numbers.get(p.family_of_id, "") if p.family_of_id else "", p.room_label,
            ]
            for p in participants
        ]


def write_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("参加人员")
    sheet.append(EXPORT_HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
