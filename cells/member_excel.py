"""The "Sổ danh sách đảng viên" as an .xlsx file: export, and import with a preview.

Import is two steps. ``read_member_sheet`` checks the upload, finds the header row below the
office's title lines, reads its headings (known variants, or the organisation's remembered
mapping) and its member rows, and sets aside total, signature and blank lines with a note;
``member_import_preview`` validates every row against the database and the user's cells without
writing anything, and marks each row new, unchanged or changed (with its differences) against the
members on file. The uploaded file waits under ``MEDIA_ROOT/imports/<uuid>.xlsx`` (the uuid is kept
in the session) while the user maps columns; only a preview with no bad row can be committed, and
the confirmation reads and validates it again before ``member_import_commit`` writes all rows in one
transaction.
"""

import datetime
import io
import re
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from lib import xlsx

from . import selectors, services
from .models import Member, MemberImportMapping, Organisation, Position

XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE
DATE_NUMBER_FORMAT = "DD/MM/YYYY"
TEXT_NUMBER_FORMAT = "@"

MAX_IMPORT_ROWS = 5000
# An .xlsx is a zip: refuse archives that would unpack to far more than any member list needs,
# before openpyxl opens them (it holds the whole shared-string table in memory: 93 MB of shared
# strings from a 228 KB file cost 36 s of CPU and 550 MB). A list of MAX_IMPORT_ROWS members is
# about 5 MB of sheet XML; the limits leave three times that. The sizes read are those the archive
# declares: Python's zipfile (which openpyxl uses) never inflates a part beyond its declared size.
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_PART_BYTES = 16 * 1024 * 1024
# Text XML deflates about 10 to 20 times; a large part packed far tighter is repeated filler.
MAX_PART_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
HEADER_SCAN_ROWS = 30  # offices put a title, the cell's name and blank lines above the header
STASH_MAX_AGE_SECONDS = 24 * 60 * 60
SESSION_KEY = "member_import_token"

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls)
DATE_INPUT_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Vietnamese header, marked for translation with gettext_noop
    width: int
    aliases: tuple[str, ...] = ()
    exported: bool = True  # False: read on import only


# The headings offices write, with their common variants. Matching folds case, diacritics, spacing
# and punctuation ("SỐ THẺ ĐV" = "so the dv"), so only the wording needs listing here.
COLUMNS = (
    Column("stt", gettext_noop("STT"), 6, ("Số TT", "Số thứ tự", "TT")),
    Column(
        "full_name",
        gettext_noop("Họ và tên"),
        28,
        ("Họ tên", "Họ và tên đảng viên", "Họ tên đảng viên", "Họ, tên", "Họ và tên khai sinh"),
    ),
    Column(
        "date_of_birth",
        gettext_noop("Ngày sinh"),
        13,
        ("Ngày tháng năm sinh", "Năm sinh", "Ngày, tháng, năm sinh", "Sinh ngày"),
    ),
    Column("sex", gettext_noop("Giới tính"), 10, ("Nam/Nữ", "Nam, nữ", "Phái")),
    Column(
        "citizen_id",
        gettext_noop("Số CCCD"),
        16,
        (
            "CCCD",
            "Số căn cước",
            "Số căn cước công dân",
            "Số CCCD/CMND",
            "CCCD/CMND",
            "Số định danh",
            "Số định danh cá nhân",
            "CMND",
        ),
    ),
    Column("phone", gettext_noop("Điện thoại"), 14, ("Số điện thoại", "SĐT", "ĐT", "Điện thoại di động")),
    Column("email", gettext_noop("Email"), 28, ("Thư điện tử", "E-mail", "Địa chỉ email")),
    Column(
        "party_card_number",
        gettext_noop("Số thẻ đảng viên"),
        17,
        ("Số thẻ", "Số thẻ đảng", "Số thẻ ĐV", "Thẻ đảng viên", "Số thẻ Đảng viên"),
    ),
    Column(
        "admission_decision_date",
        gettext_noop("Ngày vào Đảng"),
        14,
        ("Ngày kết nạp", "Ngày quyết định kết nạp", "Ngày kết nạp Đảng", "Ngày vào Đảng dự bị", "Ngày vào ĐCSVN"),
    ),
    Column("admission_ceremony_date", gettext_noop("Ngày lễ kết nạp"), 14, ("Ngày tổ chức lễ kết nạp",)),
    Column(
        "full_membership_date",
        gettext_noop("Ngày chính thức"),
        14,
        (
            "Ngày công nhận chính thức",
            "Ngày chuyển chính thức",
            "Ngày vào Đảng chính thức",
            "Ngày được công nhận chính thức",
            "Chính thức",
        ),
    ),
    Column("status", gettext_noop("Loại"), 12, ("Loại đảng viên", "Chính thức/Dự bị", "Dự bị/Chính thức")),
    Column("workplace", gettext_noop("Nơi công tác"), 32, ("Đơn vị công tác", "Cơ quan công tác", "Đơn vị")),
    Column(
        "job_title",
        gettext_noop("Chức vụ"),
        22,
        ("Chức vụ chính quyền", "Chức vụ chuyên môn", "Chức danh", "Chức vụ công tác", "Chức vụ đơn vị"),
    ),
    Column("hometown", gettext_noop("Quê quán"), 28, ("Quê", "Nguyên quán")),
    Column("notes", gettext_noop("Ghi chú"), 28, ("Ghi chú khác",)),
    Column(
        "party_position",
        gettext_noop("Chức vụ Đảng"),
        16,
        ("Chức vụ trong Đảng", "Chức vụ đảng", "Chức vụ Đảng viên", "Chức vụ cấp ủy"),
        exported=False,
    ),
    Column("cell_name", gettext_noop("Chi bộ"), 32, ("Tên chi bộ", "Sinh hoạt tại chi bộ", "Chi bộ sinh hoạt")),
    Column("cell_id", gettext_noop("Mã chi bộ"), 11),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
EXPORT_COLUMNS = tuple(column for column in COLUMNS if column.exported)
DATE_KEYS = ("date_of_birth", "admission_decision_date", "admission_ceremony_date", "full_membership_date")
TEXT_KEYS = ("citizen_id", "phone", "party_card_number")
# Fields handed to services.member_create, in column order.
FIELD_KEYS = tuple(c.key for c in COLUMNS if c.key in services.MEMBER_FIELDS)


def fold(text) -> str:
    """Case-, diacritics- and punctuation-insensitive form of a header or name: "Họ và tên" -> "ho va ten"."""
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = re.sub(r"\(.*?\)", " ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _squash(text: str) -> str:
    return " ".join(str(text).casefold().split())


_FOLDED_HEADINGS: dict[str, str] = {}
for _column in COLUMNS:
    for _heading in (_column.header, *_column.aliases):
        _FOLDED_HEADINGS.setdefault(fold(_heading), _column.key)


def _header_key(value, mapping: dict | None = None) -> str | None:
    """The column a heading names: the organisation's remembered mapping first, then the known headings."""
    if not isinstance(value, str) or not value.strip():
        return None
    folded = fold(value)
    if mapping and folded in mapping:
        return mapping[folded] or None
    key = _FOLDED_HEADINGS.get(folded)
    if key is None:
        key = next((column.key for column in COLUMNS if folded == fold(_(column.header))), None)
    return key


def _header(key: str) -> str:
    return _(COLUMNS_BY_KEY[key].header)


def column_choices() -> list[tuple[str, str]]:
    """What a heading may be mapped to in the preview's mapping step ("" ignores the column)."""
    return [("", _("— Bỏ qua cột này —"))] + [(column.key, _(column.header)) for column in COLUMNS]


# --- reading the upload --------------------------------------------------------------------


@dataclass
class SheetRow:
    number: int  # the row number in Excel, as the user sees it
    values: dict


@dataclass
class SheetColumn:
    index: int
    heading: str  # as written in the file (a two-row heading joined: "Chức vụ Đảng")
    detected: str | None  # the column it was read as, "" or None when ignored


@dataclass
class SkippedRow:
    number: int
    text: str
    reason: str


@dataclass
class MemberSheet:
    """An uploaded member list: its headings, its member rows, and the lines read as not members."""

    header_row: int
    columns: list[SheetColumn]
    rows: list[SheetRow]
    skipped: list[SkippedRow] = field(default_factory=list)
    blank_rows: int = 0

    @property
    def keys(self) -> set[str]:
        return {column.detected for column in self.columns if column.detected}

    def mapped(self) -> dict[str, str]:
        """The heading → column choices as the preview's mapping step shows them."""
        return {fold(column.heading): column.detected or "" for column in self.columns}


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _file_size(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    return size


def _check_container(file, *, name: str) -> None:
    """Refuse anything that is not an .xlsx by its content, not only its name."""
    if not name.lower().endswith(".xlsx"):
        raise ValidationError(_("Chỉ nhận tệp Excel có đuôi .xlsx."))
    limit = settings.MEMBER_IMPORT_MAX_BYTES
    if _file_size(file) > limit:
        raise ValidationError(_("Tệp quá lớn: tối đa %(size)s MB.") % {"size": f"{limit / 1024 / 1024:g}"})
    file.seek(0)
    signature = file.read(4)
    file.seek(0)
    if signature == OLE_SIGNATURE:
        raise ValidationError(_("Đây là tệp Excel 97-2003 (.xls). Hãy mở bằng Excel và lưu lại dạng .xlsx."))
    if signature != ZIP_SIGNATURE:
        raise ValidationError(_("Tệp không phải bảng tính Excel .xlsx (có thể chỉ bị đổi tên)."))
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile:
        raise ValidationError(_("Tệp .xlsx bị hỏng, không mở được.")) from None
    finally:
        file.seek(0)
    if "xl/workbook.xml" not in {part.filename for part in parts}:
        raise ValidationError(_("Tệp không phải bảng tính Excel .xlsx (có thể chỉ bị đổi tên)."))
    too_much = _(
        "Tệp chứa quá nhiều dữ liệu để nhập (khi giải nén vượt %(size)s MB); hãy xóa các trang tính, "
        "hình ảnh không cần thiết hoặc chia thành nhiều tệp."
    )
    if sum(part.file_size for part in parts) > MAX_UNCOMPRESSED_BYTES:
        raise ValidationError(too_much % {"size": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)})
    for part in parts:
        if part.file_size > MAX_PART_BYTES:
            raise ValidationError(too_much % {"size": MAX_PART_BYTES // (1024 * 1024)})
        if part.file_size > RATIO_CHECKED_FROM_BYTES and part.file_size > MAX_PART_RATIO * max(part.compress_size, 1):
            raise ValidationError(_("Tệp có phần dữ liệu bị nén bất thường (có thể là tệp độc hại); không nhập."))


# Lines of an office's list that are not members. Matched on the folded text of a cell.
# A total line: "Tổng cộng", "Tổng số: 50 đảng viên", "Cộng".
_TOTAL_LINE = re.compile(r"^(tong cong|tong so|tong|cong|cong so)( .*)?$")
# The signature block: "Người lập biểu", "T/M CHI BỘ", "TM. CHI ỦY", "Xác nhận của ...", and the
# place-and-date line "Đông Hà, ngày 05 tháng 02 năm 2026" (or "ngày ... tháng ... năm ..." left blank).
_SIGNATURE_LINE = re.compile(
    r"^(nguoi lap|nguoi ghi|t m |tm |xac nhan|thu truong)|(^|.* )ngay( \d+)? thang( \d+)? nam\b"
)
# The row of column numbers many forms print under the header: (1) (2) (3) ...
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


def _cell_texts(values) -> list[str]:
    return [fold(value) for value in values if isinstance(value, str) and value.strip()]


def _is_counter(value) -> bool:
    """Whether an STT cell holds a row number (1, "1", "1.")."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"\s*\d+\s*\.?\s*", value))


def _has_name_and_birth(values: tuple, index_of: dict) -> bool:
    """Without an STT column: a row with a name and a readable date of birth is a member, whatever its notes say."""
    name_index, birth_index = index_of.get("full_name"), index_of.get("date_of_birth")
    if name_index is None or birth_index is None or max(name_index, birth_index) >= len(values):
        return False
    if _is_blank(values[name_index]):
        return False
    try:
        return _parse_date(values[birth_index]) is not None
    except ValueError:
        return False


def _headings(header: tuple, below: tuple | None, mapping: dict | None) -> tuple[list[SheetColumn], bool]:
    """The columns named by a header row, joined with the row below when it is the second row of a
    two-row heading ("Chức vụ" merged over "Đảng" | "Chính quyền" reads "Chức vụ Đảng", "Chức vụ Chính quyền")."""
    name_index = next(index for index, value in enumerate(header) if _header_key(value, mapping) == "full_name")
    sub = None
    if below is not None:
        texts = [value for value in below if not _is_blank(value)]
        name_below = below[name_index] if name_index < len(below) else None
        if (
            texts
            and _is_blank(name_below)
            and all(isinstance(value, str) for value in texts)
            and not all(_COLUMN_NUMBER.match(value.strip()) for value in texts)
        ):
            sub = below
    columns: list[SheetColumn] = []
    parent = ""
    for index in range(max(len(header), len(sub or ()))):
        top = header[index] if index < len(header) else None
        if not _is_blank(top):
            parent = " ".join(str(top).split())
        child = sub[index] if sub is not None and index < len(sub) else None
        if not _is_blank(child):
            child = " ".join(str(child).split())
            heading = f"{parent} {child}".strip()
            if _header_key(heading, mapping) is None and _header_key(child, mapping) is not None:
                heading = child
        elif not _is_blank(top):
            heading = parent
        else:
            continue
        columns.append(SheetColumn(index=index, heading=heading, detected=_header_key(heading, mapping)))
    seen: set[str] = set()
    for column in columns:  # a column named twice is read from its first place
        if column.detected in seen:
            column.detected = None
        elif column.detected:
            seen.add(column.detected)
    return columns, sub is not None


def _read_sheet(worksheet, mapping: dict | None) -> MemberSheet | None:
    """Find the header row (the one naming "Họ và tên", wherever the title rows put it) and read below it."""
    iterator = enumerate(worksheet.iter_rows(values_only=True), start=1)
    pending: list[tuple[int, tuple]] = []
    header = None
    for number, values in iterator:
        if number > HEADER_SCAN_ROWS:
            return None
        if any(_header_key(value, mapping) == "full_name" for value in values):
            header = (number, values)
            break
    if header is None:
        return None
    below = next(iterator, None)
    columns, two_rows = _headings(header[1], below[1] if below else None, mapping)
    if below is not None and not two_rows:
        pending.append(below)
    sheet = MemberSheet(header_row=header[0], columns=columns, rows=[])
    index_of = {column.detected: column.index for column in columns if column.detected}
    stt_index = index_of.get("stt")
    in_footer = False

    def skip(number, values, reason):
        text = " ".join(" ".join(str(value).split()) for value in values if not _is_blank(value))
        sheet.skipped.append(SkippedRow(number=number, text=text[:120], reason=reason))

    for number, values in [*pending, *iterator]:
        if all(_is_blank(value) for value in values):
            sheet.blank_rows += 1
            continue
        counted = stt_index is not None and stt_index < len(values) and _is_counter(values[stt_index])
        if not counted and stt_index is None:
            counted = _has_name_and_birth(values, index_of)
        texts = _cell_texts(values)
        if in_footer:
            skip(number, values, _("Phần ký tên cuối danh sách"))
            continue
        if not counted:
            filled = [str(value).strip() for value in values if not _is_blank(value)]
            if len(filled) > 2 and all(_COLUMN_NUMBER.match(text) for text in filled):
                skip(number, values, _("Dòng đánh số cột"))
                continue
            if texts and _TOTAL_LINE.match(texts[0]):
                skip(number, values, _("Dòng tổng cộng"))
                continue
            if any(_SIGNATURE_LINE.search(text) for text in texts):
                in_footer = True
                skip(number, values, _("Phần ký tên cuối danh sách"))
                continue
        row = {key: values[index] for key, index in index_of.items() if index < len(values)}
        if all(_is_blank(value) for value in row.values()):
            skip(number, values, _("Không có dữ liệu ở các cột được nhập"))
            continue
        if len(sheet.rows) >= MAX_IMPORT_ROWS:
            raise ValidationError(_("Tệp có quá %(max)d dòng; hãy chia thành nhiều tệp.") % {"max": MAX_IMPORT_ROWS})
        sheet.rows.append(SheetRow(number=number, values=row))
    return sheet


def read_member_sheet(file, *, name: str, mapping: dict | None = None) -> MemberSheet:
    """The member rows of an uploaded list; a ValidationError says what is wrong with the file.

    ``mapping`` (folded heading → column key, "" to ignore) is what the user chose in the mapping
    step or what their organisation's last import remembered; the known headings cover the rest.
    """
    _check_container(file, name=name)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise ValidationError(_("Không đọc được tệp Excel này.")) from None
    sheet = None
    try:
        sheets = [workbook.active] + [sheet for sheet in workbook.worksheets if sheet is not workbook.active]
        for worksheet in sheets:
            sheet = _read_sheet(worksheet, mapping)
            if sheet is not None:
                break
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(_("Không đọc được tệp Excel này.")) from None
    finally:
        workbook.close()
        file.seek(0)
    if sheet is None:
        raise ValidationError(_("Không tìm thấy dòng tiêu đề có cột “Họ và tên”."))
    if not sheet.rows:
        raise ValidationError(_("Tệp không có dòng đảng viên nào dưới dòng tiêu đề."))
    return sheet


# --- validating the rows -------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _number_text(value) -> tuple[str, bool]:
    """A cell's text, and whether Excel stored it as a number (so leading zeros were lost)."""
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value), True
    return "".join(_text(value).split()), False


def _parse_date(value) -> datetime.date | None:
    if _is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        parsed = value.date()
    elif isinstance(value, datetime.date):
        parsed = value
    elif isinstance(value, str):
        for date_format in DATE_INPUT_FORMATS:
            try:
                parsed = datetime.datetime.strptime(value.strip(), date_format).date()
                break
            except ValueError:
                continue
        else:
            raise ValueError(value)
    else:
        raise ValueError(value)
    if parsed.year < 1900:
        raise ValueError(value)
    return parsed


SEX_WORDS = {fold(label): value for value, label in [("nam", "Nam"), ("nu", "Nữ")]}
STATUS_WORDS = {
    **{fold(code): code for code in Member.Status.values},
    fold("Chính thức"): Member.Status.OFFICIAL,
    fold("Dự bị"): Member.Status.PROBATIONARY,
    fold("ĐV chính thức"): Member.Status.OFFICIAL,
    fold("ĐV dự bị"): Member.Status.PROBATIONARY,
}
# "Chức vụ Đảng" as offices write it; anything else there ("Đảng viên", "Đảng ủy viên") makes no cell position.
POSITION_WORDS = {
    fold("Bí thư"): Position.Kind.SECRETARY,
    fold("BT"): Position.Kind.SECRETARY,
    fold("Phó Bí thư"): Position.Kind.DEPUTY_SECRETARY,
    fold("PBT"): Position.Kind.DEPUTY_SECRETARY,
    fold("Chi ủy viên"): Position.Kind.COMMITTEE_MEMBER,
    fold("CUV"): Position.Kind.COMMITTEE_MEMBER,
    fold("Ủy viên"): Position.Kind.COMMITTEE_MEMBER,
    fold("Tổ trưởng"): Position.Kind.GROUP_LEADER,
    fold("Tổ trưởng tổ đảng"): Position.Kind.GROUP_LEADER,
    fold("Tổ phó"): Position.Kind.GROUP_DEPUTY,
    fold("Tổ phó tổ đảng"): Position.Kind.GROUP_DEPUTY,
}
NOT_A_POSITION = {fold("Đảng viên"), fold("ĐV"), ""}
_CELL_SUFFIX = re.compile(r" (chi bo|chi uy|to dang)( .*)?$")
# Field shown as a difference when a member already on file changes: label and how the value reads.
DIFF_KEYS = (
    "full_name",
    "date_of_birth",
    "sex",
    "citizen_id",
    "phone",
    "email",
    "party_card_number",
    "admission_decision_date",
    "admission_ceremony_date",
    "full_membership_date",
    "status",
    "workplace",
    "job_title",
    "hometown",
    "notes",
)


def _positions_of(text: str) -> tuple[list[str], list[str]]:
    """The cell positions an entry of "Chức vụ Đảng" names, and the parts that name none."""
    kinds, unknown = [], []
    for part in re.split(r"[,;/+]| và |\n", text):
        folded = fold(part)
        if folded in NOT_A_POSITION:
            continue
        kind = POSITION_WORDS.get(folded) or POSITION_WORDS.get(_CELL_SUFFIX.sub("", folded))
        if kind is None:
            unknown.append(" ".join(part.split()))
        elif kind not in kinds:
            kinds.append(kind)
    return kinds, unknown


@dataclass
class Change:
    key: str
    label: str
    before: str
    after: str


@dataclass
class ImportRow:
    number: int
    display: dict
    fields: dict = field(default_factory=dict)
    organisation: Organisation | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # read by inference; shown, not errors
    positions: list[str] = field(default_factory=list)  # Position.Kind values from "Chức vụ Đảng"
    existing: Member | None = None  # the member on file this row is (by card number, or name and birth date)
    changes: list[Change] = field(default_factory=list)
    new_positions: list[str] = field(default_factory=list)
    status_inferred: bool = False

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def label(self) -> str:
        """How the office names the row: by its STT and name; the Excel row helps find it."""
        stt, name = self.display.get("stt"), self.display.get("full_name")
        parts = [_("STT %(stt)s") % {"stt": stt} if stt else _("Dòng %(row)d") % {"row": self.number}]
        if name:
            parts.append(name)
        label = " – ".join(parts)
        if stt:
            label += " " + _("(dòng %(row)d trong Excel)") % {"row": self.number}
        return label

    @property
    def short_label(self) -> str:
        stt = self.display.get("stt")
        return _("STT %(stt)s") % {"stt": stt} if stt else _("dòng %(row)d") % {"row": self.number}

    @property
    def kind(self) -> str:
        if self.existing is None:
            return "new"
        return "changed" if self.changes or self.new_positions else "unchanged"


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    sheet: MemberSheet | None = None
    problems: list[str] = field(default_factory=list)  # about the file as a whole (a column missing)

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.bad_rows and not self.problems

    @property
    def new_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.kind == "new"]

    @property
    def changed_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.kind == "changed"]

    @property
    def unchanged_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.kind == "unchanged"]

    @property
    def has_writes(self) -> bool:
        return any(row.kind != "unchanged" for row in self.rows)


class _CellIndex:
    """The cells a user may put members into, found by code or by (case/diacritics-insensitive) name."""

    def __init__(self, user):
        cells = list(selectors.cells_for_member_forms(user).order_by("path"))
        self.by_id = {cell.pk: cell for cell in cells}
        self.by_name: dict[str, list[Organisation]] = {}
        self.by_folded: dict[str, list[Organisation]] = {}
        for cell in cells:
            self.by_name.setdefault(_squash(cell.name), []).append(cell)
            self.by_folded.setdefault(fold(cell.name), []).append(cell)

    def named(self, name: str) -> list[Organisation]:
        return self.by_name.get(_squash(name)) or self.by_folded.get(fold(name), [])

    def resolve(
        self, *, code, name: str, default: Organisation | None = None
    ) -> tuple[Organisation | None, str | None]:
        code_text, _numeric = _number_text(code)
        if code_text:
            if not code_text.isdigit():
                return None, _("Mã chi bộ “%(code)s” không hợp lệ.") % {"code": code_text}
            cell = self.by_id.get(int(code_text))
            if cell is None:
                return None, _("Không tìm thấy chi bộ mã %(code)s trong các chi bộ bạn được quản lý.") % {
                    "code": code_text
                }
            if name and cell not in self.named(name):
                return None, _("Mã chi bộ %(code)s là “%(cell)s”, không khớp tên chi bộ “%(name)s”.") % {
                    "code": code_text,
                    "cell": cell.name,
                    "name": name,
                }
            return cell, None
        if not name:
            if default is not None:
                return default, None
            return None, _("Thiếu chi bộ (ghi tên chi bộ hoặc mã chi bộ).")
        matches = self.named(name)
        if not matches:
            return None, _("Không tìm thấy chi bộ “%(name)s” trong các chi bộ bạn được quản lý.") % {"name": name}
        if len(matches) > 1:
            return None, _("Có %(count)d chi bộ tên “%(name)s”; hãy ghi mã chi bộ.") % {
                "count": len(matches),
                "name": name,
            }
        return matches[0], None


def _read_status(row: ImportRow, values: dict, keys: set[str]) -> None:
    """Official or probationary, from the "Loại" column, else "Dự bị" in the notes, else an empty
    "Ngày chính thức": a member becomes official only when the cell's vote is confirmed and dated, so one
    without a full-membership date is still on probation (Điều lệ Đảng Art. 5; DR §5 "Probation").
    An inferred status is shown as a note in the preview, and never undoes a full membership on file."""
    fields, errors = row.fields, row.errors
    status = _text(values.get("status"))
    notes = fold(_text(values.get("notes")))
    if status:
        fields["status"] = STATUS_WORDS.get(fold(status))
        if fields["status"] is None:
            errors.append(_("Loại “%(value)s” không hợp lệ (ghi Chính thức hoặc Dự bị).") % {"value": status})
    elif re.search(r"(^| )(dv )?du bi( |$)", notes):
        fields["status"] = Member.Status.PROBATIONARY
        row.status_inferred = True
        row.notes.append(_("Dự bị (theo cột Ghi chú)."))
    elif "full_membership_date" in keys and "status" not in keys:
        row.status_inferred = True
        if fields.get("full_membership_date") or row.display.get("full_membership_date"):
            fields["status"] = Member.Status.OFFICIAL
        else:
            fields["status"] = Member.Status.PROBATIONARY
            row.notes.append(_("Dự bị (cột Ngày chính thức để trống)."))
    else:
        fields["status"] = None
        errors.append(_("Thiếu loại đảng viên (Chính thức hoặc Dự bị)."))


def _read_row(sheet_row: SheetRow, cells: _CellIndex, *, keys: set[str], default_cell) -> ImportRow:
    values = sheet_row.values
    row = ImportRow(number=sheet_row.number, display={key: _text(values.get(key)) for key in COLUMNS_BY_KEY})
    fields, errors = row.fields, row.errors

    fields["full_name"] = _text(values.get("full_name"))
    if not fields["full_name"]:
        errors.append(_("Thiếu họ và tên."))

    for key in DATE_KEYS:
        value = values.get(key)
        try:
            fields[key] = _parse_date(value)
        except ValueError:
            fields[key] = None
            if key == "date_of_birth" and re.fullmatch(r"(19|20)\d\d", row.display[key]):
                errors.append(
                    _("Ngày sinh chỉ ghi năm (%(value)s); hãy ghi đủ ngày/tháng/năm như trong hồ sơ đảng viên.")
                    % {"value": row.display[key]}
                )
            else:
                errors.append(
                    _("%(column)s “%(value)s” không đúng dạng ngày/tháng/năm (ví dụ 05/02/1980).")
                    % {"column": _header(key), "value": row.display[key]}
                )

    sex = _text(values.get("sex"))
    fields["sex"] = SEX_WORDS.get(fold(sex), "") if sex else ""
    if sex and not fields["sex"]:
        errors.append(_("Giới tính “%(value)s” không hợp lệ (ghi Nam hoặc Nữ).") % {"value": sex})

    citizen_id, numeric = _number_text(values.get("citizen_id"))
    if numeric and len(citizen_id) < 12:
        citizen_id = citizen_id.zfill(12)  # Excel drops the leading zero of the province code
    fields["citizen_id"] = citizen_id or None
    if citizen_id and not re.fullmatch(r"\d{12}", citizen_id):
        fields["citizen_id"] = None
        errors.append(_("Số CCCD “%(value)s” không hợp lệ: phải gồm đúng 12 chữ số.") % {"value": citizen_id})

    phone, numeric = _number_text(values.get("phone"))
    fields["phone"] = "0" + phone if numeric and len(phone) == 9 else phone
    fields["email"] = _text(values.get("email"))
    fields["party_card_number"] = _number_text(values.get("party_card_number"))[0] or None

    _read_status(row, values, keys)

    fields["workplace"] = _text(values.get("workplace"))
    fields["job_title"] = _text(values.get("job_title"))
    fields["hometown"] = _text(values.get("hometown"))
    fields["notes"] = str(values.get("notes") or "").strip()

    row.positions, unknown = _positions_of(_text(values.get("party_position")))
    for text in unknown:
        row.notes.append(
            _("Chức vụ Đảng “%(value)s” không phải chức vụ ở chi bộ; không tạo chức vụ.") % {"value": text}
        )

    row.organisation, cell_error = cells.resolve(
        code=values.get("cell_id"), name=_text(values.get("cell_name")), default=default_cell
    )
    if cell_error:
        errors.append(cell_error)
    return row


def _check_against_model(row: ImportRow, member: Member | None = None) -> None:
    """Field limits and the date rules of the member services, on an unsaved Member (or the one on
    file with the row's values over it)."""
    fields = {key: value for key, value in row.fields.items() if value is not None}
    if "status" not in fields:
        fields["status"] = Member.Status.OFFICIAL  # already reported; keeps the date rules meaningful
    if member is None:
        member = Member(organisation=row.organisation, **{k: v for k, v in fields.items() if k in FIELD_KEYS})
    else:
        member = Member(**{f.attname: getattr(member, f.attname) for f in Member._meta.concrete_fields})
        for change_key in row.fields:
            if change_key in FIELD_KEYS and _given(row.fields[change_key]):
                setattr(member, change_key, row.fields[change_key])
    # Fields already reported are skipped; the cell is resolved already (validating it would query per row).
    skip = ["organisation", *(key for key in FIELD_KEYS if key not in fields or not fields[key])]
    try:
        member.full_clean(exclude=skip, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                if key in COLUMNS_BY_KEY:
                    message = _("%(column)s: %(message)s") % {"column": _header(key), "message": message}
                row.errors.append(message)
    try:
        services.member_check_dates(member)
    except ValidationError as error:
        row.errors.extend(error.messages)


def _given(value) -> bool:
    return value not in (None, "")


def _shown(key: str, value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if key == "status":
        return str(Member.Status(value).label)
    if key == "sex":
        return str(Member.Sex(value).label)
    return str(value)


def _match_existing(rows: list[ImportRow], *, user) -> None:
    """Find the members already on file: by card number (with the same name), then by name and birth date.

    Two queries whatever the number of rows. A card number held by someone of another name is not a
    match: the duplicate check reports it.
    """
    visible = selectors.members_visible_to(user).select_related("organisation")
    cards = {row.fields["party_card_number"] for row in rows if row.fields.get("party_card_number")}
    by_card = (
        {member.party_card_number: member for member in visible.filter(party_card_number__in=cards)} if cards else {}
    )
    unmatched = []
    for row in rows:
        member = by_card.get(row.fields.get("party_card_number"))
        if member is not None and fold(member.full_name) == fold(row.fields["full_name"]):
            row.existing = member
        elif member is None:
            unmatched.append(row)
    births = {row.fields["date_of_birth"] for row in unmatched if row.fields.get("date_of_birth")}
    by_name: dict[tuple, list[Member]] = {}
    if births:
        for member in visible.filter(date_of_birth__in=births):
            by_name.setdefault((fold(member.full_name), member.date_of_birth), []).append(member)
    for row in unmatched:
        if not row.fields.get("date_of_birth") or not row.fields["full_name"]:
            continue
        matches = by_name.get((fold(row.fields["full_name"]), row.fields["date_of_birth"]), [])
        if len(matches) > 1:
            row.errors.append(
                _("Có %(count)d đảng viên cùng họ tên và ngày sinh này; hãy ghi số thẻ đảng viên.")
                % {"count": len(matches)}
            )
        elif matches and matches[0].party_card_number and row.fields.get("party_card_number"):
            pass  # same name and birth date, another card: not the same member (the card number decides)
        elif matches:
            row.existing = matches[0]


def _compare(rows: list[ImportRow], *, allowed: set[int]) -> None:
    """What a row would change in the member on file: only the values the file gives (a blank cell
    erases nothing), and the positions not yet held."""
    members = [row.existing for row in rows if row.existing is not None]
    held: dict[int, set[str]] = {}
    for position in Position.objects.filter(member__in=members, end__isnull=True).only("member_id", "kind"):
        held.setdefault(position.member_id, set()).add(position.kind)
    for row in rows:
        member = row.existing
        if member is None:
            row.new_positions = list(row.positions)
            continue
        if member.organisation_id not in allowed:
            row.errors.append(_("Đảng viên này đã có trong hệ thống, ở chi bộ bạn không quản lý."))
            continue
        if row.organisation is not None and row.organisation.pk != member.organisation_id:
            row.errors.append(
                _(
                    "Đảng viên này đang sinh hoạt ở “%(cell)s”; muốn chuyển sinh hoạt, hãy dùng chức "
                    "năng chuyển sinh hoạt đảng."
                )
                % {"cell": member.organisation.name}
            )
            continue
        row.organisation = member.organisation
        for key in DIFF_KEYS:
            after = row.fields.get(key)
            if not _given(after):
                continue
            if (
                key == "status"
                and row.status_inferred
                and member.status == Member.Status.OFFICIAL
                and (after == Member.Status.PROBATIONARY and not row.fields.get("full_membership_date"))
            ):
                # An empty date on an old list does not undo a full membership recorded since.
                continue
            before = getattr(member, key)
            if before != after:
                row.changes.append(
                    Change(
                        key=key,
                        label=_header(key) if key in COLUMNS_BY_KEY else key,
                        before=_shown(key, before),
                        after=_shown(key, after),
                    )
                )
        row.new_positions = [kind for kind in row.positions if kind not in held.get(member.pk, set())]
        if row.changes:
            _check_against_model(row, member)


def _check_secretaries(rows: list[ImportRow]) -> None:
    """One bí thư per cell (the model's constraint), said in advance; the bí thư replaced is named."""
    first: dict[int, ImportRow] = {}
    for row in rows:
        if Position.Kind.SECRETARY in row.new_positions and row.organisation is not None:
            previous = first.setdefault(row.organisation.pk, row)
            if previous is not row:
                row.errors.append(
                    _("Chi bộ “%(cell)s” đã có bí thư ở %(other)s trong tệp.")
                    % {"cell": row.organisation.name, "other": previous.short_label}
                )
    if not first:
        return
    current = {
        position.organisation_id: position.member
        for position in Position.objects.filter(
            organisation__in=list(first), kind=Position.Kind.SECRETARY, end__isnull=True
        ).select_related("member")
    }
    for cell_id, row in first.items():
        holder = current.get(cell_id)
        if holder is not None and (row.existing is None or holder.pk != row.existing.pk):
            row.notes.append(
                _("Bí thư thay %(name)s (chức vụ của người này kết thúc hôm nay).") % {"name": holder.full_name}
            )


def _check_duplicates(
    rows: list[ImportRow], *, key: str, user, taken_message: str, hidden_message: str, repeated_message: str
) -> None:
    """Numbers repeated in the file, and numbers another member holds: named as taken when that
    member is in the user's subtree, refused without saying why otherwise (no probing of who is on file)."""
    first_row: dict[str, ImportRow] = {}
    for row in rows:
        value = row.fields.get(key)
        if not value:
            continue
        if value in first_row:
            row.errors.append(repeated_message % {"value": value, "row": first_row[value].short_label})
        else:
            first_row[value] = row
    lookup = {f"{key}__in": list(first_row)}
    holders = dict(Member.objects.filter(**lookup).values_list(key, "pk")) if first_row else {}
    visible = (
        set(selectors.members_visible_to(user).filter(**{f"{key}__in": list(holders)}).values_list(key, flat=True))
        if holders
        else set()
    )
    for row in rows:
        value = row.fields.get(key)
        if value in holders and (row.existing is None or holders[value] != row.existing.pk):
            message = taken_message if value in visible else hidden_message
            row.errors.append(message % {"value": value})


def member_import_preview(*, sheet: MemberSheet, user, default_cell: Organisation | None = None) -> ImportPreview:
    """Validate every row without writing: each bad row carries its reasons, in Vietnamese, and each
    row is new, unchanged or changed (with its differences) against the members on file.

    Cells resolve only among those ``user`` may put members into; a cell outside them is unknown;
    ``default_cell`` is the cell of rows that name none. The queries do not grow with the number of rows.
    """
    cells = _CellIndex(user)
    if default_cell is not None and default_cell.pk not in cells.by_id:
        default_cell = None
    keys = sheet.keys
    problems = []
    if not {"status", "full_membership_date"} & keys and not ({"notes"} & keys):
        problems.append(
            _("Thiếu cột: %(columns)s.")
            % {"columns": _("%(a)s hoặc %(b)s") % {"a": _header("status"), "b": _header("full_membership_date")}}
        )
    if not {"cell_id", "cell_name"} & keys and default_cell is None:
        problems.append(
            _("Thiếu cột: %(columns)s. Hãy chọn chi bộ của danh sách ở ô “Chi bộ” rồi tải lên lại.")
            % {"columns": _("%(a)s hoặc %(b)s") % {"a": _header("cell_name"), "b": _header("cell_id")}}
        )
    rows = [_read_row(sheet_row, cells, keys=keys, default_cell=default_cell) for sheet_row in sheet.rows]
    _match_existing(rows, user=user)
    for row in rows:
        if row.existing is None:
            _check_against_model(row)
    _compare(rows, allowed=set(cells.by_id))
    _check_secretaries(rows)
    hidden = _("%(field)s %%(value)s không dùng được. Hãy kiểm tra lại; nếu số đúng, đề nghị cấp ủy cấp trên kiểm tra.")
    _check_duplicates(
        rows,
        key="party_card_number",
        user=user,
        taken_message=_("Số thẻ đảng viên %(value)s đã có trong hệ thống."),
        hidden_message=hidden % {"field": _("Số thẻ đảng viên")},
        repeated_message=_("Số thẻ đảng viên %(value)s trùng với %(row)s."),
    )
    _check_duplicates(
        rows,
        key="citizen_id",
        user=user,
        taken_message=_("Số CCCD %(value)s đã có trong hệ thống."),
        hidden_message=hidden % {"field": _("Số CCCD")},
        repeated_message=_("Số CCCD %(value)s trùng với %(row)s."),
    )
    return ImportPreview(rows=rows, sheet=sheet, problems=problems)


# --- the mapping remembered per organisation -------------------------------------------------


def mapping_owner(*, user, cell: Organisation | None) -> Organisation | None:
    """Whose mapping an import uses: the list's cell when chosen, else the user's own organisation
    (the first they manage members of)."""
    if cell is not None:
        return cell
    assignment = next((a for a in selectors.role_assignments_of(user) if a.role in selectors.MANAGE_MEMBERS), None)
    return assignment.organisation if assignment else None


def mapping_for(*, organisation: Organisation | None) -> dict:
    if organisation is None:
        return {}
    saved = MemberImportMapping.objects.filter(organisation=organisation).values_list("columns", flat=True).first()
    return dict(saved or {})


def mapping_from_choices(*, sheet: MemberSheet, choices: dict[int, str]) -> dict:
    """The user's choices in the mapping step (column index → key or "") as a heading mapping."""
    valid = set(COLUMNS_BY_KEY)
    mapping = {}
    for column in sheet.columns:
        choice = choices.get(column.index)
        folded = fold(column.heading)
        # A heading written twice is read from its first place, as the reader does.
        if choice is not None and (choice == "" or choice in valid) and folded not in mapping:
            mapping[folded] = choice
    return mapping


def _remember_mapping(*, organisation: Organisation | None, sheet: MemberSheet, mapping: dict, by) -> None:
    """Keep the headings the user mapped differently from the known headings, for the next import."""
    if organisation is None:
        return
    before = mapping_for(organisation=organisation)
    remembered = dict(before)
    for column in sheet.columns:
        folded = fold(column.heading)
        if folded not in mapping:
            continue
        if (mapping[folded] or None) != _header_key(column.heading):
            remembered[folded] = mapping[folded]
        else:
            remembered.pop(folded, None)
    if remembered == before:
        return
    saved, _created = MemberImportMapping.objects.update_or_create(
        organisation=organisation,
        defaults={"columns": remembered, "updated_by": by if getattr(by, "is_authenticated", False) else None},
    )
    services.audit_log(
        actor=by,
        action="cells.member_import_mapping.update",
        instance=saved,
        organisation=organisation,
        before={"columns": before},
        after={"columns": remembered},
    )


# --- writing -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[Member]
    updated: list[Member]
    unchanged: int
    positions: list[Position]


@transaction.atomic
def member_import_commit(
    *,
    rows: list[ImportRow],
    by,
    sheet: MemberSheet | None = None,
    mapping: dict | None = None,
    mapping_organisation: Organisation | None = None,
) -> ImportResult:
    """Write a clean preview, or nothing: one transaction for the whole file.

    New members go through ``services.member_create`` (membership row and audit entry included),
    changed ones through ``services.member_update`` with only the values that differ, positions
    through ``services.position_assign``; an unchanged row writes nothing, so importing the same
    file again changes nothing. The mapping the user chose is remembered for the organisation.
    """
    if not rows or any(row.errors for row in rows):
        raise ValidationError(_("Tệp còn dòng lỗi; hãy sửa tệp rồi tải lên lại."))
    allowed = set(selectors.cells_for_member_forms(by).values_list("pk", flat=True))
    today = timezone.localdate()
    result = ImportResult(created=[], updated=[], unchanged=0, positions=[])
    for row in rows:
        if row.organisation is None or row.organisation.pk not in allowed:
            raise ValidationError(_("%(row)s: không có quyền thêm đảng viên vào chi bộ này.") % {"row": row.label})
        try:
            if row.existing is None:
                fields = {key: row.fields[key] for key in FIELD_KEYS}
                member = services.member_create(organisation=row.organisation, joined_on=today, by=by, **fields)
                result.created.append(member)
            elif row.changes:
                fields = {change.key: row.fields[change.key] for change in row.changes}
                member = services.member_update(member=row.existing, by=by, **fields)
                result.updated.append(member)
            else:
                member = row.existing
                if not row.new_positions:
                    result.unchanged += 1
            for kind in row.new_positions:
                result.positions.append(
                    services.position_assign(
                        member=member, organisation=row.organisation, kind=kind, start=today, by=by
                    )
                )
        except (ValidationError, IntegrityError) as error:
            reasons = "; ".join(error.messages) if isinstance(error, ValidationError) else _("dữ liệu bị trùng")
            raise ValidationError(_("%(row)s: %(reasons)s") % {"row": row.label, "reasons": reasons}) from error
    if sheet is not None and mapping is not None:
        _remember_mapping(organisation=mapping_organisation, sheet=sheet, mapping=mapping, by=by)
    return result


# --- the uploaded file between preview and confirmation ------------------------------------


def _stash_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _stash_path(token: str) -> Path | None:
    try:
        return _stash_dir() / f"{uuid.UUID(str(token))}.xlsx"
    except ValueError:
        return None


def import_stash_save(*, session, file) -> str:
    """Keep a readable upload while the user maps its columns and confirms; return its token."""
    import_stash_clear(session=session)
    directory = _stash_dir()
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STASH_MAX_AGE_SECONDS
    for old in directory.iterdir():  # uploads never confirmed
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = str(uuid.uuid4())
    with _stash_path(token).open("wb") as target:
        for chunk in file.chunks():
            target.write(chunk)
    session[SESSION_KEY] = token
    return token


def import_stash_read(*, session, token: str, mapping: dict | None = None) -> MemberSheet | None:
    """Read the stashed upload again (the mapping step), leaving it in place; None if it is not this session's."""
    if not token or session.get(SESSION_KEY) != token:
        return None
    path = _stash_path(token)
    if path is None:
        return None
    try:
        with path.open("rb") as file:
            return read_member_sheet(file, name=path.name, mapping=mapping)
    except (FileNotFoundError, ValidationError):
        return None


def import_stash_take(*, session, token: str, mapping: dict | None = None) -> MemberSheet | None:
    """Consume the stashed upload and return its rows; None if ``token`` is not this session's or it is gone.

    The file is claimed with an atomic rename first, so a double-submitted confirmation imports once.
    """
    if not token or session.get(SESSION_KEY) != token:
        return None
    session.pop(SESSION_KEY, None)
    path = _stash_path(token)
    if path is None:
        return None
    claimed = path.with_name(f"{path.stem}.{uuid.uuid4()}.claimed")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    try:
        with claimed.open("rb") as file:
            return read_member_sheet(file, name=path.name, mapping=mapping)
    except ValidationError:
        return None
    finally:
        claimed.unlink(missing_ok=True)


def import_stash_clear(*, session) -> None:
    token = session.pop(SESSION_KEY, None)
    path = _stash_path(token) if token else None
    if path is not None:
        path.unlink(missing_ok=True)


# --- export --------------------------------------------------------------------------------


def _export_values(number: int, member: Member, personal: dict) -> list:
    return [
        number,
        member.full_name,
        member.date_of_birth,
        member.get_sex_display() if member.sex else "",
        personal["citizen_id"],
        personal["phone"],
        member.email,
        member.party_card_number or "",
        member.admission_decision_date,
        member.admission_ceremony_date,
        member.full_membership_date,
        str(member.get_status_display()),
        member.workplace,
        member.job_title,
        member.hometown,
        member.notes,
        member.organisation.name if member.organisation else "",
        member.organisation_id,
    ]


def export_filename() -> str:
    return f"so-danh-sach-dang-vien-{timezone.localdate():%Y%m%d}.xlsx"


def member_export_workbook(*, members, user) -> tuple[bytes, int]:
    """The member list as an .xlsx: a title, a bold header, one row per member, real dates; and how
    many rows carry the citizen ID and phone unmasked.

    The file says it holds personal data (its second line), and the citizen ID and phone of each member
    are in full only where ``privacy.can_see_personal(user, member)``, masked elsewhere.
    ``members`` should come with ``organisation`` selected (``selectors.member_list`` does so).
    Written through ``lib.xlsx``: a name starting like a formula stays text.
    """
    from .privacy import PERSONAL_DATA_NOTICE, can_see_personal, masked_values

    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = _("Danh sách đảng viên")[:31]
    last_column = get_column_letter(len(EXPORT_COLUMNS))

    xlsx.append_row(sheet, [_("SỔ DANH SÁCH ĐẢNG VIÊN")])
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    # The second line says the file holds personal data, with the export's date (the rows below keep
    # their place: an exported list is imported back as it is).
    xlsx.append_row(
        sheet,
        [
            _("Ngày xuất: %(date)s. %(notice)s")
            % {"date": timezone.localdate().strftime("%d/%m/%Y"), "notice": PERSONAL_DATA_NOTICE}
        ],
    )
    sheet.merge_cells(f"A2:{last_column}2")
    sheet["A2"].font = Font(italic=True, bold=True, color="C00000")
    sheet["A2"].alignment = Alignment(horizontal="center", wrap_text=True)
    sheet.row_dimensions[2].height = 30
    workbook.properties.description = str(PERSONAL_DATA_NOTICE)

    header_row = 3
    for cell in xlsx.append_row(sheet, [_(column.header) for column in EXPORT_COLUMNS]):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2DCDB")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{header_row + 1}"  # a coordinate: sheet.cell() would create an empty row

    date_columns = [index for index, column in enumerate(EXPORT_COLUMNS) if column.key in DATE_KEYS]
    text_columns = [index for index, column in enumerate(EXPORT_COLUMNS) if column.key in TEXT_KEYS]
    last_row = header_row
    unmasked = 0
    for number, member in enumerate(members, start=1):
        if can_see_personal(user, member):
            personal = {"citizen_id": member.citizen_id or "", "phone": member.phone}
            unmasked += 1
        else:
            personal = masked_values(member)
        cells = xlsx.append_row(sheet, _export_values(number, member, personal))
        last_row += 1
        for index in date_columns:
            cells[index].number_format = DATE_NUMBER_FORMAT
        for index in text_columns:
            cells[index].number_format = TEXT_NUMBER_FORMAT
    if last_row > header_row:
        sheet.auto_filter.ref = f"A{header_row}:{last_column}{last_row}"
    return xlsx.workbook_bytes(workbook), unmasked
