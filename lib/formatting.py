"""How the portal writes numbers, money, percentages, dates and times in Vietnamese, in one place: on the
pages, in the e-mails, the spreadsheets and the Party documents (HD 36-HD/VPTW). Pure functions; the
template filters that show them are one-line calls into this module."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

DEFAULT_PLACE = "Đông Hà"


# --- numbers and money ----------------------------------------------------------------------


def thousands(number: int) -> str:
    """1234567 → "1.234.567" (Vietnamese writes a dot between thousands)."""
    return f"{number:,}".replace(",", ".")


def money(amount: int) -> str:
    """60000 → "60.000 đ"."""
    return thousands(amount) + " đ"


def basis_points_label(basis_points: int) -> str:
    """A rate in basis points as Vietnamese writes it: 100 → "1 %", 50 → "0,5 %", 3000 → "30 %"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole},{rest:02d}".rstrip("0").rstrip(",") + " %"


def share_percent(count: int, whole: int) -> str:
    """``count`` of ``whole`` as a percentage with at most one decimal and a decimal comma: 8 of 9 → "88,9%"."""
    if not whole:
        return "0%"
    value = round(count * 100 / whole, 1)
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def fmt_int(value) -> str:
    """A count as the dashboards, exports and reports write it, grouped in the active language: 1.234 in Vietnamese."""
    return number_format(int(value or 0), 0, force_grouping=True)


def fmt_percent(value: float | None) -> str:
    """A rate with one decimal in the active language, "—" when there is none: 93,4 %."""
    if value is None:
        return "—"
    return f"{number_format(round(value, 1), 1, force_grouping=True)} %"


# --- dates and times ------------------------------------------------------------------------


def date_text(day: datetime.date) -> str:
    """dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def month_text(day: datetime.date) -> str:
    """mm/yyyy."""
    return day.strftime("%m/%Y")


def moment_text(moment: datetime.datetime) -> str:
    """dd/mm/yyyy HH:MM, in local time when the moment is aware."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%d/%m/%Y %H:%M")


def time_and_day(moment: datetime.datetime) -> str:
    """ "14:05 ngày 05/02/2026" in local time (notices, reminders)."""
    local = timezone.localtime(moment)
    return _("%(time)s ngày %(date)s") % {"time": local.strftime("%H:%M"), "date": date_text(local.date())}


def month_label(first: datetime.date) -> str:
    """ "tháng 02/2026"."""
    return _("tháng %(month)02d/%(year)s") % {"month": first.month, "year": first.year}


def quarter_label(first: datetime.date) -> str:
    """ "quý 1/2026"."""
    return _("quý %(quarter)s/%(year)s") % {"quarter": (first.month - 1) // 3 + 1, "year": first.year}


# --- the Party documents --------------------------------------------------------------------


def party_day(day: datetime.date) -> str:
    """Day numbers below 10 and months 1–2 take a leading zero: "ngày 05 tháng 02 năm 2026", "ngày 15 tháng 3 năm 2026"."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_and_date(day: datetime.date) -> str:
    """The italic line under the party heading, e.g. "Đông Hà, ngày 05 tháng 02 năm 2026"."""
    return f"{getattr(settings, 'DOCUMENT_PLACE', DEFAULT_PLACE)}, {party_day(day)}"


def clock(moment: datetime.datetime | None) -> str:
    """ "14 giờ 05 phút" in local time."""
    if moment is None:
        return "…"
    local = timezone.localtime(moment)
    return f"{local.hour} giờ {local.minute:02d} phút"


# Two-syllable words common in organisation names: a heading line never ends between their syllables
# when another break balances the lines almost as well ("CƠ QUAN", "DOANH NGHIỆP", "QUẢNG TRỊ"…).
_WORDS = {
    tuple(pair.split())
    for pair in (
        "CƠ QUAN",
        "DOANH NGHIỆP",
        "QUẢNG TRỊ",
        "NÔNG NGHIỆP",
        "PHÁT TRIỂN",
        "NÔNG THÔN",
        "VIỆT NAM",
        "CHI NHÁNH",
        "CÔNG TY",
        "CỔ PHẦN",
        "MÔI TRƯỜNG",
        "CÔNG TRÌNH",
        "ĐÔ THỊ",
        "ĐÔNG HÀ",
        "CHI BỘ",
        "ĐẢNG BỘ",
        "ĐẢNG ỦY",
        "VĂN PHÒNG",
        "TÀI CHÍNH",
        "KHOA HỌC",
        "CÔNG NGHỆ",
        "GIÁO DỤC",
        "ĐÀO TẠO",
        "Y TẾ",
        "BỆNH VIỆN",
        "ĐA KHOA",
        "TRUNG TÂM",
        "NGÂN HÀNG",
        "ĐIỆN LỰC",
        "VIỄN THÔNG",
        "TƯ PHÁP",
        "NGOẠI VỤ",
        "THANH TRA",
        "DÂN TỘC",
        "TÔN GIÁO",
        "HỢP TÁC",
        "LIÊN MINH",
        "XÂY DỰNG",
        "GIAO THÔNG",
        "VẬN TẢI",
        "KẾ HOẠCH",
        "ĐẦU TƯ",
        "NỘI VỤ",
        "TRƯỜNG HỌC",
        "CHÍNH TRỊ",
        "KIỂM SOÁT",
        "BỆNH TẬT",
        "XỔ SỐ",
        "KIẾN THIẾT",
        "DƯỢC PHẨM",
        "VẬT TƯ",
        "QUỐC HỘI",
        "HỘI ĐỒNG",
        "NHÂN DÂN",
        "ĐẠI BIỂU",
        "THỂ THAO",
        "DU LỊCH",
        "VĂN HÓA",
        "THÔNG TIN",
        "TRUYỀN THÔNG",
        "LAO ĐỘNG",
        "THƯƠNG BINH",
        "XÃ HỘI",
        "CÔNG THƯƠNG",
        "TỔNG HỢP",
        "QUẢN LÝ",
        "TIN HỌC",
        "DỊCH VỤ",
        "NGÂN SÁCH",
    )
}


def balanced_lines(text: str, width: int = 24) -> list[str]:
    """An organisation's name in the heading, cut at word boundaries into as few lines of at most about
    ``width`` characters as it needs, about as long as each other and not between the syllables of a
    common word: "ĐẢNG BỘ KHỐI / CƠ QUAN VÀ DOANH NGHIỆP / TỈNH QUẢNG TRỊ", not a last line holding
    "TRỊ" alone (issue #14)."""
    words = text.split()
    if len(text) <= width or len(words) < 2:
        return [text]
    upper = [word.upper() for word in words]

    def cost(lines: list[list[int]], target: float) -> float:
        total = 0.0
        for line in lines:
            length = len(" ".join(words[i] for i in line))
            total += (length - target) ** 2 + (10_000 if length > width else 0)
        for line in lines[:-1]:  # a break inside a common two-syllable word
            last = line[-1]
            if (upper[last], upper[last + 1]) in _WORDS:
                total += 150
        return total

    best: tuple[float, list[list[int]]] | None = None
    first = -(-len(text) // width)
    for count in range(first, min(first + 2, len(words)) + 1):
        target = len(text) / count
        # Every way of cutting the words into ``count`` lines (names are short: a dozen words at most).
        for cuts in _combinations(len(words) - 1, count - 1):
            bounds = [0, *[c + 1 for c in cuts], len(words)]
            lines = [list(range(bounds[i], bounds[i + 1])) for i in range(count)]
            value = cost(lines, target) + (count - first) * 120
            if best is None or value < best[0]:
                best = (value, lines)
    assert best is not None  # count = first always cuts at least once
    return [" ".join(words[i] for i in line) for line in best[1]]


def _combinations(n: int, k: int):
    from itertools import combinations

    return combinations(range(n), k)
