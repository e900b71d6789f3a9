"""The "Sổ danh sách đảng viên" as an .xlsx file: export, and import with a preview.

Import is two steps. ``read_member_sheet`` checks the upload and reads its rows;
``member_import_preview`` validates every row against the database and the user's cells without
writing anything. Only a preview with no bad row can be committed: the uploaded file waits under
``MEDIA_ROOT/imports/<uuid>.xlsx`` (the uuid is kept in the session), and the confirmation reads and
validates it again before ``member_import_commit`` writes all rows in one transaction.
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
from .models import Member, Organisation

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
HEADER_SCAN_ROWS = 20
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


COLUMNS = (
    Column("stt", gettext_noop("STT"), 6),
    Column("full_name", gettext_noop("Họ và tên"), 28, ("Họ tên", "Họ và tên đảng viên")),
    Column("date_of_birth", gettext_noop("Ngày sinh"), 13, ("Ngày tháng năm sinh",)),
    Column("sex", gettext_noop("Giới tính"), 10),
    Column("citizen_id", gettext_noop("Số CCCD"), 16, ("CCCD", "Số căn cước", "Số căn cước công dân", "Số CCCD/CMND")),
    Column("phone", gettext_noop("Điện thoại"), 14, ("Số điện thoại",)),
    Column("email", gettext_noop("Email"), 28, ("Thư điện tử", "E-mail")),
    Column("party_card_number", gettext_noop("Số thẻ đảng viên"), 17, ("Số thẻ", "Số thẻ đảng")),
    Column("admission_decision_date", gettext_noop("Ngày vào Đảng"), 14,
           ("Ngày kết nạp", "Ngày quyết định kết nạp")),
    Column("admission_ceremony_date", gettext_noop("Ngày lễ kết nạp"), 14),
    Column("full_membership_date", gettext_noop("Ngày chính thức"), 14,
           ("Ngày công nhận chính thức", "Ngày chuyển chính thức")),
    Column("status", gettext_noop("Loại"), 12, ("Loại đảng viên",)),
    Column("workplace", gettext_noop("Nơi công tác"), 32),
    Column("job_title", gettext_noop("Chức vụ"), 22, ("Chức vụ chính quyền",)),
    Column("cell_name", gettext_noop("Chi bộ"), 32, ("Tên chi bộ",)),
    Column("cell_id", gettext_noop("Mã chi bộ"), 11),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
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


def _header_key(value) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    folded = fold(value)
    for column in COLUMNS:
        if folded in {fold(column.header), fold(_(column.header)), *(fold(alias) for alias in column.aliases)}:
            return column.key
    return None


def _header(key: str) -> str:
    return _(COLUMNS_BY_KEY[key].header)


# --- reading the upload --------------------------------------------------------------------


@dataclass
class SheetRow:
    number: int  # the row number in Excel, as the user sees it
    values: dict


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
    too_much = _("Tệp chứa quá nhiều dữ liệu để nhập (khi giải nén vượt %(size)s MB); hãy xóa các trang tính, "
                 "hình ảnh không cần thiết hoặc chia thành nhiều tệp.")
    if sum(part.file_size for part in parts) > MAX_UNCOMPRESSED_BYTES:
        raise ValidationError(too_much % {"size": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)})
    for part in parts:
        if part.file_size > MAX_PART_BYTES:
            raise ValidationError(too_much % {"size": MAX_PART_BYTES // (1024 * 1024)})
        if part.file_size > RATIO_CHECKED_FROM_BYTES and part.file_size > MAX_PART_RATIO * max(part.compress_size, 1):
            raise ValidationError(_("Tệp có phần dữ liệu bị nén bất thường (có thể là tệp độc hại); không nhập."))


def _rows_of(worksheet) -> tuple[dict[int, str] | None, list[SheetRow]]:
    """Find the header row (the one naming "Họ và tên") and read the rows below it."""
    columns: dict[int, str] | None = None
    rows: list[SheetRow] = []
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if columns is None:
            if number > HEADER_SCAN_ROWS:
                break
            keys = {index: _header_key(value) for index, value in enumerate(values)}
            if "full_name" in keys.values():
                columns = {}
                for index, key in keys.items():
                    if key and key not in columns.values():
                        columns[index] = key
            continue
        row = {key: values[index] for index, key in columns.items() if index < len(values)}
        if all(_is_blank(value) for value in row.values()):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ValidationError(_("Tệp có quá %(max)d dòng; hãy chia thành nhiều tệp.") % {"max": MAX_IMPORT_ROWS})
        rows.append(SheetRow(number=number, values=row))
    return columns, rows


def read_member_sheet(file, *, name: str) -> list[SheetRow]:
    """The data rows of an uploaded member list; a ValidationError says what is wrong with the file."""
    _check_container(file, name=name)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise ValidationError(_("Không đọc được tệp Excel này.")) from None
    columns, rows = None, []
    try:
        sheets = [workbook.active] + [sheet for sheet in workbook.worksheets if sheet is not workbook.active]
        for sheet in sheets:
            columns, rows = _rows_of(sheet)
            if columns is not None:
                break
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(_("Không đọc được tệp Excel này.")) from None
    finally:
        workbook.close()
        file.seek(0)
    if columns is None:
        raise ValidationError(_("Không tìm thấy dòng tiêu đề có cột “Họ và tên”."))
    missing = []
    if "status" not in columns.values():
        missing.append(_header("status"))
    if not {"cell_id", "cell_name"} & set(columns.values()):
        missing.append(_("%(name)s hoặc %(code)s") % {"name": _header("cell_name"), "code": _header("cell_id")})
    if missing:
        raise ValidationError(_("Thiếu cột: %(columns)s.") % {"columns": ", ".join(missing)})
    if not rows:
        raise ValidationError(_("Tệp không có dòng đảng viên nào dưới dòng tiêu đề."))
    return rows


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
}


@dataclass
class ImportRow:
    number: int
    display: dict
    fields: dict = field(default_factory=dict)
    organisation: Organisation | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    rows: list[ImportRow]

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.bad_rows


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

    def resolve(self, *, code, name: str) -> tuple[Organisation | None, str | None]:
        code_text, _numeric = _number_text(code)
        if code_text:
            if not code_text.isdigit():
                return None, _("Mã chi bộ “%(code)s” không hợp lệ.") % {"code": code_text}
            cell = self.by_id.get(int(code_text))
            if cell is None:
                return None, _("Không tìm thấy chi bộ mã %(code)s trong các chi bộ bạn được quản lý.") % {
                    "code": code_text}
            if name and cell not in self.named(name):
                return None, _("Mã chi bộ %(code)s là “%(cell)s”, không khớp tên chi bộ “%(name)s”.") % {
                    "code": code_text, "cell": cell.name, "name": name}
            return cell, None
        if not name:
            return None, _("Thiếu chi bộ (ghi tên chi bộ hoặc mã chi bộ).")
        matches = self.named(name)
        if not matches:
            return None, _("Không tìm thấy chi bộ “%(name)s” trong các chi bộ bạn được quản lý.") % {"name": name}
        if len(matches) > 1:
            return None, _("Có %(count)d chi bộ tên “%(name)s”; hãy ghi mã chi bộ.") % {
                "count": len(matches), "name": name}
        return matches[0], None


def _read_row(sheet_row: SheetRow, cells: _CellIndex) -> ImportRow:
    values = sheet_row.values
    row = ImportRow(number=sheet_row.number, display={key: _text(values.get(key)) for key in COLUMNS_BY_KEY})
    fields, errors = row.fields, row.errors

    fields["full_name"] = _text(values.get("full_name"))
    if not fields["full_name"]:
        errors.append(_("Thiếu họ và tên."))

    for key in DATE_KEYS:
        try:
            fields[key] = _parse_date(values.get(key))
        except ValueError:
            fields[key] = None
            errors.append(_("%(column)s “%(value)s” không đúng dạng ngày/tháng/năm (ví dụ 05/02/1980).") % {
                "column": _header(key), "value": row.display[key]})

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

    status = _text(values.get("status"))
    fields["status"] = STATUS_WORDS.get(fold(status)) if status else None
    if not status:
        errors.append(_("Thiếu loại đảng viên (Chính thức hoặc Dự bị)."))
    elif fields["status"] is None:
        errors.append(_("Loại “%(value)s” không hợp lệ (ghi Chính thức hoặc Dự bị).") % {"value": status})

    fields["workplace"] = _text(values.get("workplace"))
    fields["job_title"] = _text(values.get("job_title"))

    row.organisation, cell_error = cells.resolve(code=values.get("cell_id"), name=_text(values.get("cell_name")))
    if cell_error:
        errors.append(cell_error)
    return row


def _check_against_model(row: ImportRow) -> None:
    """Field limits and the date rules of the member services, on an unsaved Member."""
    fields = {key: value for key, value in row.fields.items() if value is not None}
    if "status" not in fields:
        fields["status"] = Member.Status.OFFICIAL  # already reported; keeps the date rules meaningful
    member = Member(organisation=row.organisation, **fields)
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
        services._check_member_dates(member)
    except ValidationError as error:
        row.errors.extend(error.messages)


def _check_duplicates(rows: list[ImportRow], *, key: str, user, taken_message: str, hidden_message: str,
                      repeated_message: str) -> None:
    """Numbers repeated in the file, and numbers another member holds: named as taken when that
    member is in the user's subtree, refused without saying why otherwise (no probing of who is on file)."""
    first_row: dict[str, int] = {}
    for row in rows:
        value = row.fields.get(key)
        if not value:
            continue
        if value in first_row:
            row.errors.append(repeated_message % {"value": value, "row": first_row[value]})
        else:
            first_row[value] = row.number
    lookup = {f"{key}__in": list(first_row)}
    taken = set(Member.objects.filter(**lookup).values_list(key, flat=True)) if first_row else set()
    visible = set(selectors.members_visible_to(user).filter(**{f"{key}__in": taken}).values_list(key, flat=True)
                  ) if taken else set()
    for row in rows:
        if row.fields.get(key) in taken:
            message = taken_message if row.fields[key] in visible else hidden_message
            row.errors.append(message % {"value": row.fields[key]})


def member_import_preview(*, sheet_rows: list[SheetRow], user) -> ImportPreview:
    """Validate every row without writing: each bad row carries its reasons, in Vietnamese.

    Cells resolve only among those ``user`` may put members into; a cell outside them is unknown.
    The queries do not grow with the number of rows.
    """
    cells = _CellIndex(user)
    rows = [_read_row(sheet_row, cells) for sheet_row in sheet_rows]
    for row in rows:
        _check_against_model(row)
    hidden = _("%(field)s %%(value)s không dùng được. Hãy kiểm tra lại; nếu số đúng, đề nghị cấp ủy cấp trên kiểm tra.")
    _check_duplicates(
        rows, key="party_card_number", user=user,
        taken_message=_("Số thẻ đảng viên %(value)s đã có trong hệ thống."),
        hidden_message=hidden % {"field": _("Số thẻ đảng viên")},
        repeated_message=_("Số thẻ đảng viên %(value)s trùng với dòng %(row)d."),
    )
    _check_duplicates(
        rows, key="citizen_id", user=user,
        taken_message=_("Số CCCD %(value)s đã có trong hệ thống."),
        hidden_message=hidden % {"field": _("Số CCCD")},
        repeated_message=_("Số CCCD %(value)s trùng với dòng %(row)d."),
    )
    return ImportPreview(rows=rows)


# --- writing -------------------------------------------------------------------------------


@transaction.atomic
def member_import_commit(*, rows: list[ImportRow], by) -> list[Member]:
    """Create every member of a clean preview, or none: one transaction for the whole file.

    Each member goes through ``services.member_create`` (membership row and audit entry included).
    """
    if not rows or any(row.errors for row in rows):
        raise ValidationError(_("Tệp còn dòng lỗi; hãy sửa tệp rồi tải lên lại."))
    allowed = set(selectors.cells_for_member_forms(by).values_list("pk", flat=True))
    joined_on = timezone.localdate()
    members = []
    for row in rows:
        if row.organisation is None or row.organisation.pk not in allowed:
            raise ValidationError(_("Dòng %(row)d: không có quyền thêm đảng viên vào chi bộ này.") % {"row": row.number})
        fields = {key: row.fields[key] for key in FIELD_KEYS}
        try:
            members.append(services.member_create(organisation=row.organisation, joined_on=joined_on, by=by, **fields))
        except (ValidationError, IntegrityError) as error:
            reasons = "; ".join(error.messages) if isinstance(error, ValidationError) else _("dữ liệu bị trùng")
            raise ValidationError(_("Dòng %(row)d: %(reasons)s") % {"row": row.number, "reasons": reasons}) from error
    return members


# --- the uploaded file between preview and confirmation ------------------------------------


def _stash_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _stash_path(token: str) -> Path | None:
    try:
        return _stash_dir() / f"{uuid.UUID(str(token))}.xlsx"
    except ValueError:
        return None


def import_stash_save(*, session, file) -> str:
    """Keep an upload whose preview was clean until the user confirms; return its token."""
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


def import_stash_take(*, session, token: str) -> list[SheetRow] | None:
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
            return read_member_sheet(file, name=path.name)
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
    last_column = get_column_letter(len(COLUMNS))

    xlsx.append_row(sheet, [_("SỔ DANH SÁCH ĐẢNG VIÊN")])
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    # The second line says the file holds personal data, with the export's date (the rows below keep
    # their place: an exported list is imported back as it is).
    xlsx.append_row(sheet, [_("Ngày xuất: %(date)s. %(notice)s") % {
        "date": timezone.localdate().strftime("%d/%m/%Y"), "notice": PERSONAL_DATA_NOTICE}])
    sheet.merge_cells(f"A2:{last_column}2")
    sheet["A2"].font = Font(italic=True, bold=True, color="C00000")
    sheet["A2"].alignment = Alignment(horizontal="center", wrap_text=True)
    sheet.row_dimensions[2].height = 30
    workbook.properties.description = str(PERSONAL_DATA_NOTICE)

    header_row = 3
    for cell in xlsx.append_row(sheet, [_(column.header) for column in COLUMNS]):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2DCDB")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{header_row + 1}"  # a coordinate: sheet.cell() would create an empty row

    date_columns = [index for index, column in enumerate(COLUMNS) if column.key in DATE_KEYS]
    text_columns = [index for index, column in enumerate(COLUMNS) if column.key in TEXT_KEYS]
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
