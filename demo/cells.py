"""The demo Khối: a realistic, deterministic organisation tree with its members and demo accounts.

``build_demo(scale=..., rng=random.Random(2026))`` plans the whole tree in memory, then writes it
with a handful of ``bulk_create`` calls (one per tree level, then members, memberships, positions,
exemptions, suspensions, terms, accounts and roles). It bypasses the services on purpose: it writes
thousands of rows that are valid by construction, and an audit row per demo row would only be noise.

Later features (meetings, scores, dues) extend the demo by adding steps after ``build_demo``
that read the tree back from the database; the returned ``DemoResult`` carries the featured
organisations (the officer's TCCS and the secretary's cell) so they can be found again.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import CASCADE, PROTECT, RESTRICT, ProtectedError, RestrictedError
from django.utils import timezone

from cells.models import (
    PATH_STEP_WIDTH,
    CellDocument,
    CellMembership,
    DuesPayment,
    Exemption,
    Member,
    MemberCommitment,
    Organisation,
    Position,
    RequiredDocumentType,
    Role,
    RoleAssignment,
    Suspension,
    Term,
    cell_document_upload_to,
    path_step,
)
from cells.selectors import COMMITTEE_THRESHOLD

DEMO_SEED = 2026
DEMO_PASSWORD = "demo-2026"
BATCH_SIZE = 1000

ROOT_NAME = "Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh Quảng Trị"
ROOT_SHORT_CODE = "ĐUK"
TERM_NAME = "2025–2030"
TERM_START = datetime.date(2025, 6, 1)
PREVIOUS_TERM_NAME = "2020–2025"
PREVIOUS_TERM_START = datetime.date(2020, 6, 1)
# Cell congresses of the 2025–2030 term elected their secretaries in April–May 2025.
ELECTION_START = datetime.date(2025, 4, 10)
PROBATIONARY_SHARE = 0.08
MIN_CELL_SIZE = 5
FEATURED_CELL_SIZE = 16
FEATURED_TCCS_CELLS = 5


@dataclass(frozen=True)
class Scale:
    tccs: int
    cells: int
    members: int


SCALES = {
    "demo": Scale(tccs=20, cells=80, members=1200),
    "province": Scale(tccs=100, cells=400, members=6000),
}
# Months of meeting history before the current month.
HISTORY_MONTHS = {"demo": 12, "province": 36}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    description: str


DEMO_ACCOUNTS = (
    DemoAccount("khoi_admin", Role.KHOI_ADMIN, "Ban Tổ chức Đảng ủy Khối (quản trị, vào được trang admin)"),
    DemoAccount("capuy", Role.COMMITTEE_VIEWER, "Ủy viên Ban Chấp hành Đảng bộ Khối (chỉ xem)"),
    DemoAccount("danguy", Role.TCCS_OFFICER, "Cán bộ Văn phòng Đảng ủy cơ sở"),
    DemoAccount("bithu", Role.CELL_SECRETARY, "Bí thư chi bộ"),
    DemoAccount("dangvien", Role.MEMBER, "Đảng viên của chi bộ trên"),
)
DEMO_USERNAMES = tuple(account.username for account in DEMO_ACCOUNTS)


# --- reference data ----------------------------------------------------------------------

# (family name, weight): the distribution of central Vietnam, Nguyễn first by far.
FAMILY_NAMES = (
    ("Nguyễn", 30),
    ("Lê", 14),
    ("Trần", 11),
    ("Hoàng", 7),
    ("Phan", 6),
    ("Võ", 5),
    ("Hồ", 5),
    ("Phạm", 4),
    ("Đặng", 3),
    ("Bùi", 2),
    ("Ngô", 2),
    ("Đỗ", 2),
    ("Dương", 2),
    ("Trương", 2),
    ("Huỳnh", 1),
    ("Lương", 1),
    ("Đinh", 1),
    ("Mai", 1),
    ("Cao", 1),
    ("Thái", 1),
)
MIDDLE_NAMES = {
    Member.Sex.MALE: (
        ("Văn", 30),
        ("Hữu", 6),
        ("Đức", 6),
        ("Minh", 6),
        ("Quang", 6),
        ("Công", 5),
        ("Đình", 5),
        ("Xuân", 4),
        ("Thanh", 4),
        ("Ngọc", 3),
        ("Quốc", 4),
        ("Anh", 3),
        ("Trọng", 3),
        ("Duy", 3),
        ("Thế", 3),
        ("Tiến", 2),
        ("Viết", 2),
        ("Khắc", 2),
    ),
    Member.Sex.FEMALE: (
        ("Thị", 55),
        ("Thu", 5),
        ("Thanh", 5),
        ("Ngọc", 5),
        ("Thùy", 4),
        ("Minh", 3),
        ("Phương", 3),
        ("Kim", 3),
        ("Hồng", 3),
        ("Mai", 2),
        ("Bảo", 2),
        ("Diệu", 2),
        ("Hoài", 2),
        ("Khánh", 2),
    ),
}
GIVEN_NAMES = {
    Member.Sex.MALE: (
        "Hùng",
        "Dũng",
        "Tuấn",
        "Minh",
        "Hải",
        "Nam",
        "Long",
        "Quân",
        "Sơn",
        "Thắng",
        "Trung",
        "Cường",
        "Phong",
        "Hiếu",
        "Toàn",
        "Thành",
        "Bình",
        "Hòa",
        "Khánh",
        "Lâm",
        "Vinh",
        "Phúc",
        "Đạt",
        "Huy",
        "Tâm",
        "Tùng",
        "Lộc",
        "Tài",
        "Nhân",
        "Hưng",
        "Tú",
        "Việt",
        "Kiên",
        "Tín",
        "Quý",
        "Hoàng",
        "Thịnh",
        "Nghĩa",
        "Đông",
        "Lực",
        "Chiến",
        "Thái",
        "Sáng",
        "Vũ",
        "Hiệp",
        "Thuận",
    ),
    Member.Sex.FEMALE: (
        "Hoa",
        "Lan",
        "Hương",
        "Mai",
        "Linh",
        "Hà",
        "Thảo",
        "Trang",
        "Nga",
        "Hằng",
        "Phương",
        "Thủy",
        "Yến",
        "Ngọc",
        "Nhung",
        "Hạnh",
        "Dung",
        "Loan",
        "Vân",
        "Hiền",
        "Thanh",
        "Oanh",
        "Quỳnh",
        "Anh",
        "Trâm",
        "Uyên",
        "Nhi",
        "Giang",
        "Châu",
        "My",
        "Huyền",
        "Thúy",
        "Lệ",
        "Tâm",
        "Xuân",
        "Liên",
    ),
}
# Citizen ID prefix: the 3-digit code of the province of birth registration.
BIRTH_PROVINCES = (("045", 60), ("044", 20), ("046", 8), ("040", 5), ("042", 5), ("001", 2))
PHONE_PREFIXES = (
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "081",
    "082",
    "083",
    "084",
    "085",
    "086",
    "088",
    "089",
    "070",
    "076",
    "077",
    "078",
    "079",
)
PLACES = (
    "Đông Hà",
    "Đồng Hới",
    "Quảng Trị",
    "Vĩnh Linh",
    "Gio Linh",
    "Cam Lộ",
    "Triệu Phong",
    "Hải Lăng",
    "Hướng Hóa",
    "Đakrông",
    "Lệ Thủy",
    "Quảng Ninh",
    "Bố Trạch",
    "Ba Đồn",
    "Quảng Trạch",
    "Tuyên Hóa",
    "Minh Hóa",
    "Khe Sanh",
    "Lao Bảo",
    "Cửa Việt",
    "Hồ Xá",
    "Kiến Giang",
    "Hoàn Lão",
)


@dataclass(frozen=True)
class Sector:
    """What a kind of unit looks like inside: its departments, branches and job titles."""

    departments: tuple[str, ...]
    branch_prefix: str  # "Điện lực" -> "Điện lực Vĩnh Linh"; "" when the unit has no branches
    # The đảng bộ bộ phận of a large đảng bộ; with branches: the departments' group, then two for the branches.
    groups: tuple[str, ...]
    leader_titles: tuple[str, ...]
    staff_titles: tuple[str, ...]


SECTORS = {
    "agency": Sector(
        departments=(
            "Văn phòng",
            "Thanh tra",
            "Phòng Kế hoạch - Tài chính",
            "Phòng Tổ chức cán bộ",
            "Phòng Pháp chế",
            "Phòng Quản lý chuyên ngành",
            "Phòng Nghiệp vụ",
            "Trung tâm Công nghệ thông tin",
            "Trung tâm Dịch vụ công",
            "Ban Quản lý dự án",
            "Phòng Hành chính - Tổng hợp",
            "Phòng Kiểm tra",
            "Trung tâm Tư vấn và Dịch vụ",
            "Phòng Hợp tác quốc tế",
            "Phòng Thông tin - Truyền thông",
        ),
        branch_prefix="",
        groups=("Khối Tham mưu", "Khối Chuyên môn", "Khối Đơn vị sự nghiệp"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Chánh Văn phòng", "Trưởng phòng", "Phó Trưởng phòng"),
        staff_titles=("Chuyên viên chính", "Chuyên viên", "Chuyên viên", "Kế toán viên", "Văn thư", "Cán sự"),
    ),
    "finance": Sector(
        departments=(
            "Văn phòng",
            "Thanh tra",
            "Phòng Quản lý ngân sách",
            "Phòng Tài chính doanh nghiệp",
            "Phòng Quản lý giá và công sản",
            "Phòng Tài chính hành chính sự nghiệp",
            "Phòng Quản lý đầu tư",
            "Phòng Đăng ký kinh doanh",
            "Phòng Tổ chức cán bộ",
            "Trung tâm Tin học và Dịch vụ tài chính công",
        ),
        branch_prefix="",
        groups=("Khối Tham mưu", "Khối Nghiệp vụ"),
        leader_titles=("Giám đốc Sở", "Phó Giám đốc Sở", "Chánh Văn phòng", "Trưởng phòng", "Phó Trưởng phòng"),
        staff_titles=("Chuyên viên chính", "Chuyên viên", "Chuyên viên", "Thanh tra viên", "Kế toán viên", "Văn thư"),
    ),
    "health": Sector(
        departments=(
            "Văn phòng Sở",
            "Phòng Nghiệp vụ Y",
            "Phòng Nghiệp vụ Dược",
            "Phòng Kế hoạch - Tài chính",
            "Chi cục Dân số",
            "Chi cục An toàn vệ sinh thực phẩm",
            "Trung tâm Giám định y khoa - Pháp y",
            "Bệnh viện Mắt",
            "Bệnh viện Phổi",
            "Trung tâm Cấp cứu 115",
        ),
        branch_prefix="Trung tâm Y tế khu vực",
        groups=("Khối Cơ quan Sở", "Khối Trung tâm Y tế số 1", "Khối Trung tâm Y tế số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Trưởng khoa", "Chi cục trưởng"),
        staff_titles=("Bác sĩ", "Điều dưỡng", "Dược sĩ", "Chuyên viên", "Chuyên viên", "Kỹ thuật viên"),
    ),
    "agriculture": Sector(
        departments=(
            "Văn phòng Sở",
            "Thanh tra Sở",
            "Chi cục Kiểm lâm",
            "Chi cục Thủy lợi",
            "Chi cục Trồng trọt và Bảo vệ thực vật",
            "Chi cục Chăn nuôi và Thú y",
            "Chi cục Thủy sản",
            "Trung tâm Khuyến nông",
            "Văn phòng Đăng ký đất đai",
            "Phòng Quản lý tài nguyên",
        ),
        branch_prefix="Hạt Kiểm lâm",
        groups=("Khối Cơ quan Sở", "Khối Kiểm lâm số 1", "Khối Kiểm lâm số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Chi cục trưởng", "Trưởng phòng", "Hạt trưởng"),
        staff_titles=("Chuyên viên", "Chuyên viên", "Kiểm lâm viên", "Kỹ sư nông nghiệp", "Kế toán", "Cán sự"),
    ),
    "education": Sector(
        departments=("Văn phòng Sở", "Phòng Giáo dục trung học", "Phòng Tổ chức cán bộ", "Phòng Kế hoạch - Tài chính"),
        branch_prefix="Trường THPT",
        groups=("Khối Cơ quan Sở", "Khối Trường THPT số 1", "Khối Trường THPT số 2"),
        leader_titles=("Hiệu trưởng", "Phó Hiệu trưởng", "Trưởng phòng", "Tổ trưởng chuyên môn"),
        staff_titles=("Giáo viên", "Giáo viên", "Giáo viên", "Chuyên viên", "Kế toán", "Nhân viên thiết bị"),
    ),
    "hospital": Sector(
        departments=(
            "Phòng Kế hoạch tổng hợp",
            "Khoa Nội tổng hợp",
            "Khoa Ngoại tổng hợp",
            "Khoa Sản",
            "Khoa Nhi",
            "Khoa Hồi sức tích cực - Chống độc",
            "Khoa Khám bệnh",
            "Khoa Xét nghiệm",
            "Khoa Chẩn đoán hình ảnh",
            "Khoa Dược",
            "Phòng Điều dưỡng",
            "Phòng Tài chính - Kế toán",
            "Khoa Truyền nhiễm",
            "Khoa Ung bướu",
            "Khoa Y học cổ truyền",
            "Khoa Gây mê hồi sức",
            "Khoa Tim mạch",
            "Khoa Thận - Lọc máu",
        ),
        branch_prefix="",
        groups=("Khối Hành chính", "Khối Lâm sàng", "Khối Cận lâm sàng"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng khoa", "Phó Trưởng khoa", "Điều dưỡng trưởng"),
        staff_titles=(
            "Bác sĩ",
            "Bác sĩ chuyên khoa I",
            "Bác sĩ chuyên khoa II",
            "Điều dưỡng",
            "Điều dưỡng",
            "Dược sĩ",
            "Kỹ thuật viên",
            "Hộ sinh",
        ),
    ),
    "school": Sector(
        departments=(
            "Phòng Tổ chức - Hành chính",
            "Phòng Quản lý đào tạo",
            "Khoa Lý luận cơ sở",
            "Khoa Xây dựng Đảng",
            "Khoa Nhà nước và Pháp luật",
            "Khoa Dân vận",
            "Khoa Kinh tế",
            "Khoa Sư phạm",
            "Khoa Ngoại ngữ",
            "Khoa Công nghệ thông tin",
            "Phòng Khoa học và Hợp tác quốc tế",
            "Thư viện",
            "Sinh viên",
        ),
        branch_prefix="",
        groups=("Khối Phòng ban", "Khối Khoa"),
        leader_titles=("Hiệu trưởng", "Phó Hiệu trưởng", "Trưởng khoa", "Trưởng phòng"),
        staff_titles=("Giảng viên", "Giảng viên chính", "Giảng viên", "Chuyên viên", "Thư viện viên"),
    ),
    "bank": Sector(
        departments=(
            "Phòng Tổng hợp",
            "Phòng Khách hàng doanh nghiệp",
            "Phòng Khách hàng cá nhân",
            "Phòng Kế toán - Ngân quỹ",
            "Phòng Quản lý rủi ro",
        ),
        branch_prefix="Phòng giao dịch",
        groups=("Khối Hội sở", "Khối Phòng giao dịch số 1", "Khối Phòng giao dịch số 2"),
        leader_titles=("Giám đốc chi nhánh", "Phó Giám đốc", "Trưởng phòng", "Giám đốc Phòng giao dịch"),
        staff_titles=(
            "Cán bộ tín dụng",
            "Giao dịch viên",
            "Giao dịch viên",
            "Kiểm soát viên",
            "Chuyên viên",
            "Thủ quỹ",
        ),
    ),
    "power": Sector(
        departments=(
            "Văn phòng",
            "Phòng Kỹ thuật",
            "Phòng Kinh doanh",
            "Phòng Tài chính - Kế toán",
            "Đội Quản lý vận hành lưới điện cao thế",
        ),
        branch_prefix="Điện lực",
        groups=("Khối Văn phòng", "Khối Điện lực số 1", "Khối Điện lực số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Đội trưởng"),
        staff_titles=("Kỹ sư", "Kỹ thuật viên", "Công nhân quản lý vận hành", "Nhân viên kinh doanh", "Kế toán"),
    ),
    "post": Sector(
        departments=("Văn phòng", "Phòng Kỹ thuật - Đầu tư", "Phòng Kinh doanh", "Phòng Kế toán - Thống kê"),
        branch_prefix="Trung tâm Viễn thông",
        groups=("Khối Văn phòng", "Khối Trung tâm số 1", "Khối Trung tâm số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Giám đốc Trung tâm"),
        staff_titles=("Kỹ sư", "Nhân viên kỹ thuật", "Giao dịch viên", "Nhân viên kinh doanh", "Kế toán"),
    ),
    "postal": Sector(
        departments=("Văn phòng", "Phòng Kinh doanh", "Phòng Kế toán - Thống kê", "Trung tâm Khai thác vận chuyển"),
        branch_prefix="Bưu điện",
        groups=("Khối Văn phòng", "Khối Bưu điện số 1", "Khối Bưu điện số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Giám đốc Bưu điện"),
        staff_titles=("Giao dịch viên", "Bưu tá", "Nhân viên khai thác", "Nhân viên kinh doanh", "Kế toán"),
    ),
    "enterprise": Sector(
        departments=(
            "Văn phòng Công ty",
            "Phòng Kỹ thuật",
            "Phòng Kinh doanh",
            "Phòng Tài chính - Kế toán",
            "Phòng Tổ chức - Hành chính",
            "Phòng Kế hoạch - Vật tư",
            "Phân xưởng Sản xuất",
            "Đội Thi công số 1",
            "Đội Thi công số 2",
            "Đội Xe",
        ),
        branch_prefix="Chi nhánh",
        groups=("Khối Văn phòng", "Khối Chi nhánh số 1", "Khối Chi nhánh số 2"),
        leader_titles=("Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Đội trưởng", "Quản đốc"),
        staff_titles=("Kỹ sư", "Kỹ thuật viên", "Công nhân", "Công nhân", "Nhân viên kinh doanh", "Kế toán", "Lái xe"),
    ),
}

AGENCY = Organisation.UnitType.AGENCY
STATE = Organisation.UnitType.STATE_ENTERPRISE
PRIVATE = Organisation.UnitType.PRIVATE_ENTERPRISE


@dataclass(frozen=True)
class Unit:
    name: str
    unit_type: str
    sector: str


# Units large enough for a đảng bộ cơ sở, best known first; the first one is the featured TCCS.
LARGE_UNITS = (
    Unit("Sở Tài chính", AGENCY, "finance"),
    Unit("Công ty Điện lực Quảng Trị", STATE, "power"),
    Unit("Sở Y tế", AGENCY, "health"),
    Unit("Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam - Chi nhánh Quảng Trị", STATE, "bank"),
    Unit("Sở Giáo dục và Đào tạo", AGENCY, "education"),
    Unit("Bệnh viện Đa khoa tỉnh", AGENCY, "hospital"),
    Unit("Viễn thông Quảng Trị", STATE, "post"),
    Unit("Trường Chính trị Lê Duẩn", AGENCY, "school"),
    Unit("Sở Nông nghiệp và Môi trường", AGENCY, "agriculture"),
    Unit("Ngân hàng TMCP Công Thương Việt Nam - Chi nhánh Quảng Trị", STATE, "bank"),
    Unit("Văn phòng Ủy ban nhân dân tỉnh", AGENCY, "agency"),
    Unit("Sở Xây dựng", AGENCY, "agency"),
    Unit("Bưu điện tỉnh Quảng Trị", STATE, "postal"),
    Unit("Ngân hàng TMCP Đầu tư và Phát triển Việt Nam - Chi nhánh Quảng Trị", STATE, "bank"),
    Unit("Sở Nội vụ", AGENCY, "agency"),
    Unit("Trường Đại học Quảng Bình", AGENCY, "school"),
    Unit("Sở Văn hóa, Thể thao và Du lịch", AGENCY, "agency"),
    Unit("Báo và Phát thanh, Truyền hình Quảng Trị", AGENCY, "agency"),
    Unit("Ngân hàng TMCP Ngoại thương Việt Nam - Chi nhánh Quảng Trị", STATE, "bank"),
    Unit("Công ty TNHH MTV Lâm nghiệp Bến Hải", STATE, "enterprise"),
    Unit("Bảo hiểm xã hội tỉnh", AGENCY, "agency"),
    Unit("Thuế tỉnh Quảng Trị", AGENCY, "agency"),
    Unit("Ban Quản lý Khu kinh tế tỉnh", AGENCY, "agency"),
    Unit("Ngân hàng Chính sách xã hội - Chi nhánh tỉnh Quảng Trị", STATE, "bank"),
    Unit("Công ty Xăng dầu Quảng Trị", STATE, "enterprise"),
    Unit("Công ty TNHH MTV Quản lý khai thác công trình thủy lợi Quảng Trị", STATE, "enterprise"),
    Unit("Công ty Cổ phần Tổng Công ty Thương mại Quảng Trị", PRIVATE, "enterprise"),
    Unit("Bệnh viện Y dược cổ truyền tỉnh", AGENCY, "hospital"),
    Unit("Sở Công Thương", AGENCY, "agency"),
    Unit("Công ty Cổ phần Cấp nước Quảng Trị", STATE, "enterprise"),
)
# Units that are a single chi bộ cơ sở.
SMALL_UNITS = (
    Unit("Sở Tư pháp", AGENCY, "agency"),
    Unit("Sở Khoa học và Công nghệ", AGENCY, "agency"),
    Unit("Thanh tra tỉnh", AGENCY, "agency"),
    Unit("Công ty Cổ phần Môi trường và Công trình đô thị Đông Hà", PRIVATE, "enterprise"),
    Unit("Sở Dân tộc và Tôn giáo", AGENCY, "agency"),
    Unit("Trung tâm Kiểm soát bệnh tật tỉnh", AGENCY, "hospital"),
    Unit("Công ty Xổ số kiến thiết Quảng Trị", STATE, "enterprise"),
    Unit("Sở Ngoại vụ", AGENCY, "agency"),
    Unit("Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", AGENCY, "agency"),
    Unit("Công ty Cổ phần Dược - Vật tư y tế Quảng Trị", PRIVATE, "enterprise"),
    Unit("Liên minh Hợp tác xã tỉnh", AGENCY, "agency"),
    Unit("Quỹ Đầu tư phát triển tỉnh", AGENCY, "agency"),
    Unit("Trường Cao đẳng Kỹ thuật Quảng Trị", AGENCY, "school"),
    Unit("Công ty Cổ phần Quản lý và Xây dựng giao thông Quảng Trị", PRIVATE, "enterprise"),
    Unit("Bảo tàng tỉnh", AGENCY, "agency"),
    Unit("Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch", AGENCY, "agency"),
    Unit("Công ty Cổ phần Khoáng sản Quảng Trị", PRIVATE, "enterprise"),
    Unit("Ban Quản lý dự án đầu tư xây dựng công trình dân dụng và công nghiệp tỉnh", AGENCY, "agency"),
    Unit("Thư viện tỉnh", AGENCY, "agency"),
    Unit("Công ty TNHH MTV Lâm nghiệp Đường 9", STATE, "enterprise"),
    Unit("Quỹ Bảo vệ và Phát triển rừng tỉnh", AGENCY, "agency"),
    Unit("Trung tâm Phục vụ hành chính công tỉnh", AGENCY, "agency"),
    Unit("Công ty Cổ phần Vận tải ô tô Quảng Trị", PRIVATE, "enterprise"),
    Unit("Trường Cao đẳng Y tế Quảng Trị", AGENCY, "school"),
    Unit("Nhà xuất bản và Phát hành sách tỉnh", AGENCY, "agency"),
)
# Further private enterprises are named from these parts when a scale needs more units.
COMPANY_FORMS = ("Công ty Cổ phần", "Công ty TNHH")
COMPANY_TRADES = (
    "Xây dựng",
    "Thương mại",
    "Vận tải",
    "Đầu tư",
    "Dược phẩm",
    "Nông sản",
    "Chế biến gỗ",
    "Thủy sản",
    "Du lịch",
    "Cơ khí",
    "Vật liệu xây dựng",
    "Tư vấn thiết kế",
    "Dịch vụ",
    "Cao su",
)
COMPANY_BRANDS = (
    "Trường Sơn",
    "Hiền Lương",
    "Cửa Việt",
    "Thạch Hãn",
    "Bến Hải",
    "Khe Sanh",
    "Lao Bảo",
    "Nhật Lệ",
    "Phong Nha",
    "Đèo Ngang",
    "Sông Gianh",
    "Hòn La",
    "Cồn Cỏ",
    "Ái Tử",
    "Mỹ Thủy",
    "Vĩnh Mốc",
    "Tà Cơn",
)

# Where members admitted outside the Khối came from ("Chuyển sinh hoạt đến từ ...").
TRANSFER_ORIGINS = (
    "Đảng bộ Trường Đại học Khoa học, Đại học Huế",
    "Đảng bộ Trường Đại học Sư phạm, Đại học Huế",
    "Đảng bộ Trường Đại học Y - Dược, Đại học Huế",
    "Đảng bộ Quân sự tỉnh",
    "Đảng bộ Công an tỉnh",
    "Đảng bộ Bộ đội Biên phòng tỉnh",
    "Đảng bộ Học viện Chính trị khu vực III",
    "Đảng bộ các cơ quan Đảng thành phố Huế",
    "Đảng bộ xã Triệu Phong",
    "Đảng bộ xã Hải Lăng",
    "Đảng bộ xã Cam Lộ",
    "Đảng bộ xã Gio Linh",
    "Đảng bộ xã Vĩnh Linh",
    "Đảng bộ xã Lệ Thủy",
    "Đảng bộ xã Bố Trạch",
    "Đảng bộ phường Đông Hà",
    "Đảng bộ phường Đồng Hới",
    "Đảng bộ phường Ba Đồn",
)
EXEMPTION_REASONS = (
    "Sức khỏe yếu, điều trị bệnh dài ngày",
    "Điều trị bệnh hiểm nghèo",
    "Tuổi cao, sức khỏe yếu",
)
SUSPENSION_REASON = "Đình chỉ sinh hoạt đảng trong thời gian cơ quan có thẩm quyền xem xét, xử lý"


# --- the plan ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    kind: str
    name: str
    unit: Unit | None
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    member_count: int = 0
    featured: bool = False
    obj: Organisation | None = None

    def add(self, child: _Node) -> _Node:
        child.parent = self
        self.children.append(child)
        return child

    @property
    def is_cell(self) -> bool:
        return self.kind in Organisation.CELL_KINDS


@dataclass
class DemoResult:
    """What ``build_demo`` made: counts for the report, and the organisations the demo accounts use."""

    counts: dict[str, int]
    root: Organisation
    featured_tccs: Organisation
    featured_cell: Organisation


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _initials(text: str) -> str:
    return "".join(word[0] for word in _ascii(text).lower().split() if word[0].isalnum())


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _units(rng: random.Random, count: int, pool: tuple[Unit, ...], used: set[str]) -> list[Unit]:
    units = [unit for unit in pool if unit.name not in used][:count]
    while len(units) < count:
        name = f"{rng.choice(COMPANY_FORMS)} {rng.choice(COMPANY_TRADES)} {rng.choice(COMPANY_BRANDS)}"
        if name not in used and all(unit.name != name for unit in units):
            units.append(Unit(name, PRIVATE, "enterprise"))
    used.update(unit.name for unit in units)
    return units


def _cell_names(rng: random.Random, unit: Unit, count: int) -> list[str]:
    sector = SECTORS[unit.sector]
    names = list(sector.departments)
    if sector.branch_prefix:
        places = list(PLACES)
        rng.shuffle(places)
        names += [f"{sector.branch_prefix} {place}" for place in places]
    # Keep the first department (the office) first; vary the rest from unit to unit.
    head, rest = names[:1], names[1:]
    rng.shuffle(rest)
    names = head + rest
    names += [f"số {number}" for number in range(1, count + 1)]
    return [f"Chi bộ {name}" for name in names[:count]]


def _spread(rng: random.Random, total: int, parts: int, minimum: int, weights: list[float]) -> list[int]:
    """Split ``total`` into ``parts`` integers of at least ``minimum``, roughly in proportion to ``weights``."""
    weight_sum = sum(weights)
    counts = [max(minimum, round(total * weight / weight_sum)) for weight in weights]
    difference = total - sum(counts)
    while difference:
        index = rng.randrange(parts)
        if difference > 0:
            counts[index] += 1
            difference -= 1
        elif counts[index] > minimum:
            counts[index] -= 1
            difference += 1
    return counts


def _chunks(items: list[str], parts: int) -> list[list[str]]:
    return [items[index * len(items) // parts : (index + 1) * len(items) // parts] for index in range(parts)]


def _group_cells(sector: Sector, names: list[str], cell_count: int) -> list[list[str]]:
    """Cells of a large đảng bộ split into its bộ phận: departments in the first, branches in the others.

    Aligned with ``sector.groups``; a group left without cells is an empty list (and is not created).
    """
    branch = f"Chi bộ {sector.branch_prefix} "
    branches = [name for name in names if sector.branch_prefix and name.startswith(branch)]
    departments = [name for name in names if name not in branches]
    if branches:
        return [departments, *_chunks(branches, 2)]
    return _chunks(names, min(len(sector.groups), 2 if cell_count < 16 else 3))


def plan_tree(*, scale: Scale, rng: random.Random) -> _Node:
    """The organisation tree in memory, with the number of members of every cell."""
    root = _Node(Organisation.Kind.KHOI, ROOT_NAME, None)
    used: set[str] = set()
    party_committees = round(scale.tccs * 0.45)
    single_cells = scale.tccs - party_committees
    large = _units(rng, party_committees, LARGE_UNITS, used)
    small = _units(rng, single_cells, SMALL_UNITS, used)

    # Cells under the đảng bộ cơ sở: the featured one has a fixed few; every fourth is large and
    # gets a đảng bộ bộ phận level.
    nested_cells = scale.cells - single_cells
    weights = [rng.uniform(0.6, 1.4) * (2.4 if index % 4 == 1 else 1.0) for index in range(party_committees - 1)]
    per_committee = [FEATURED_TCCS_CELLS] + _spread(
        rng, nested_cells - FEATURED_TCCS_CELLS, party_committees - 1, 3, weights
    )

    committees = []
    for unit, cell_count in zip(large, per_committee, strict=True):
        tccs = _Node(Organisation.Kind.DANG_BO_CO_SO, f"Đảng bộ {unit.name}", unit)
        names = _cell_names(rng, unit, cell_count)
        if cell_count >= 10:
            # The office cell stays directly under the đảng ủy; the rest go to the bộ phận.
            tccs.add(_Node(Organisation.Kind.CHI_BO, names[0], unit))
            sector = SECTORS[unit.sector]
            for group_name, group_cells in zip(
                sector.groups, _group_cells(sector, names[1:], cell_count), strict=False
            ):
                if not group_cells:
                    continue
                group = tccs.add(_Node(Organisation.Kind.DANG_BO_BO_PHAN, f"Đảng bộ bộ phận {group_name}", unit))
                for name in group_cells:
                    group.add(_Node(Organisation.Kind.CHI_BO, name, unit))
        else:
            for name in names:
                tccs.add(_Node(Organisation.Kind.CHI_BO, name, unit))
        committees.append(tccs)
    committees[0].featured = True
    committees[0].children[0].featured = True

    singles = [_Node(Organisation.Kind.CHI_BO_CO_SO, f"Chi bộ {unit.name}", unit) for unit in small]
    rest = committees[1:] + singles
    rng.shuffle(rest)
    for tccs in [committees[0], *rest]:
        root.add(tccs)

    cells = [node for node in _walk(root) if node.is_cell]
    featured = [cell for cell in cells if cell.featured]
    others = [cell for cell in cells if not cell.featured]
    sizes = _spread(
        rng,
        scale.members - FEATURED_CELL_SIZE * len(featured),
        len(others),
        MIN_CELL_SIZE,
        [rng.uniform(0.4, 1.8) * (1.3 if cell.kind == Organisation.Kind.CHI_BO_CO_SO else 1.0) for cell in others],
    )
    for cell, size in zip(others, sizes, strict=True):
        cell.member_count = size
    for cell in featured:
        cell.member_count = FEATURED_CELL_SIZE
    return root


def _walk(node: _Node):
    yield node
    for child in node.children:
        yield from _walk(child)


# --- people ------------------------------------------------------------------------------


class _People:
    """Makes members with unique identifiers; all randomness comes from one ``rng``."""

    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        self.citizen_ids: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.card_numbers: set[str] = set()

    def name(self, sex: str) -> tuple[str, str, str]:
        """(family, middle, given) with the diacritics and the sex-appropriate middle name."""
        family = _weighted(self.rng, FAMILY_NAMES)
        middle = _weighted(self.rng, MIDDLE_NAMES[sex])
        given = self.rng.choice(GIVEN_NAMES[sex])
        return family, middle, given

    def _unique(self, seen: set[str], make) -> str:
        while True:
            value = make()
            if value not in seen:
                seen.add(value)
                return value

    def citizen_id(self, sex: str, born: datetime.date) -> str:
        province = _weighted(self.rng, BIRTH_PROVINCES)
        century = 0 if born.year < 2000 else 2
        sex_digit = century + (1 if sex == Member.Sex.FEMALE else 0)
        head = f"{province}{sex_digit}{born.year % 100:02d}"
        return self._unique(self.citizen_ids, lambda: f"{head}{self.rng.randrange(10**6):06d}")

    def phone(self) -> str:
        return self._unique(self.phones, lambda: f"{self.rng.choice(PHONE_PREFIXES)}{self.rng.randrange(10**7):07d}")

    def card_number(self) -> str:
        # Party cards are numbered by the Central Organisation Commission; eight digits here.
        return self._unique(self.card_numbers, lambda: f"{self.rng.randrange(10**7, 10**8)}")

    def email(self, family: str, middle: str, given: str, born: datetime.date, unit: Unit) -> str:
        # Reserved example.com subdomains: demo e-mails can never reach a real person.
        local = _ascii(given).lower() + _initials(f"{family} {middle}")
        domain = f"{_initials(unit.name)[:8]}.example.com"
        candidate = f"{local}@{domain}"
        if candidate in self.emails:
            candidate = f"{local}{born.year % 100:02d}@{domain}"
        while candidate in self.emails:
            candidate = f"{local}{self.rng.randrange(100, 1000)}@{domain}"
        self.emails.add(candidate)
        return candidate

    def member(self, *, cell: _Node, probationary: bool, pensioner: bool) -> tuple[Member, datetime.date, str]:
        """One member of ``cell``, the day their membership of the cell began and why."""
        rng, today = self.rng, self.today
        unit = cell.unit
        sector = SECTORS[unit.sector]
        sex = Member.Sex.FEMALE if rng.random() < 0.42 else Member.Sex.MALE
        family, middle, given = self.name(sex)
        if probationary:
            age = rng.randint(23, 38)
        elif pensioner:
            age = rng.randint(61, 75)
        else:
            age = rng.randint(25, 59)
        born = _years_before(today, age) - datetime.timedelta(days=rng.randrange(365))
        if probationary:
            ceremony = today - datetime.timedelta(days=rng.randint(20, 420))
            decision = ceremony - datetime.timedelta(days=rng.randint(5, 30))
            full_membership = None
        else:
            party_years = rng.randint(2, age - 21)
            decision = _years_before(today, party_years) - datetime.timedelta(days=rng.randrange(365))
            ceremony = decision + datetime.timedelta(days=rng.randint(5, 30))
            full_membership = ceremony + datetime.timedelta(days=365 + rng.randint(0, 45))
        # Admitted in this cell: a member from the admission decision on (party age counts from it).
        # The others were admitted elsewhere, in a party organisation outside the Khối (a university,
        # the army, a commune...), and moved here with their job: a later transfer-in that says from where.
        if probationary or rng.random() < 0.35:
            joined, reason = decision, "Kết nạp"
        else:
            earliest = max(ceremony + datetime.timedelta(days=30), today - datetime.timedelta(days=15 * 365))
            joined = earliest + datetime.timedelta(days=rng.randrange(max(1, (today - earliest).days - 60)))
            reason = f"Chuyển sinh hoạt đến từ {rng.choice(TRANSFER_ORIGINS)}"
        if pensioner:
            dues_category = Member.DuesCategory.PENSIONER
            dues_base = round(rng.triangular(4_000_000, 12_000_000, 6_500_000), -3)
            job_title, workplace = "Nghỉ hưu", f"Nguyên cán bộ {unit.name}"
        else:
            dues_category = Member.DuesCategory.SALARIED
            dues_base = round(rng.triangular(4_000_000, 15_000_000, 7_500_000), -3)
            # Some senior staff lead a department; the young and the newly admitted do not.
            leads = not probationary and age >= 35 and rng.random() < 0.15
            job_title = rng.choice(sector.leader_titles[2:] if leads else sector.staff_titles)
            workplace = unit.name
        wants_email = rng.random() < (0.6 if unit.unit_type == AGENCY else 0.35)
        member = Member(
            full_name=f"{family} {middle} {given}",
            sex=sex,
            date_of_birth=born,
            citizen_id=self.citizen_id(sex, born),
            phone=self.phone(),
            email=self.email(family, middle, given, born, unit) if wants_email else "",
            party_card_number=None if probationary else self.card_number(),
            admission_decision_date=decision,
            admission_ceremony_date=ceremony,
            full_membership_date=full_membership,
            status=Member.Status.PROBATIONARY if probationary else Member.Status.OFFICIAL,
            workplace=workplace,
            job_title=job_title,
            dues_category=dues_category,
            dues_base=int(dues_base),
        )
        return member, joined, reason


# --- building ----------------------------------------------------------------------------


def _create_organisations(root: _Node) -> list[Organisation]:
    """Write the tree level by level: each level's parents already have their ids."""
    levels: list[list[_Node]] = []
    frontier = [root]
    while frontier:
        levels.append(frontier)
        frontier = [child for node in frontier for child in node.children]
    created = []
    for level in levels:
        objects = []
        for node in level:
            parent = node.parent
            if parent is None:
                path = path_step(1)
            else:
                path = parent.obj.path + path_step(parent.children.index(node) + 1)
            node.obj = Organisation(
                parent=parent.obj if parent else None,
                kind=node.kind,
                name=node.name,
                path=path,
                depth=len(path) // PATH_STEP_WIDTH,
                short_code={
                    Organisation.Kind.KHOI: ROOT_SHORT_CODE,
                    Organisation.Kind.DANG_BO_CO_SO: "ĐU",
                    Organisation.Kind.DANG_BO_BO_PHAN: "ĐBBP",
                }.get(node.kind, "CB"),
                unit_type=node.unit.unit_type if node.unit else "",
                has_seal=node.kind in (Organisation.Kind.KHOI, *Organisation.TCCS_KINDS),
            )
            objects.append(node.obj)
        created += Organisation.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    return created


def _pick_positions(rng: random.Random, members: list[Member], electors: set[int]) -> dict[str, list[Member]]:
    """Bí thư, phó bí thư and chi ủy viên of one cell, chosen among its official members.

    ``electors`` are the ids of the members who were in the cell at its congress: they are preferred.
    """
    officials = [m for m in members if m.status == Member.Status.OFFICIAL]
    # Pensioners rarely hold a post while working members are there to take it.
    officials = [m for m in officials if m.dues_category != Member.DuesCategory.PENSIONER] or officials
    officials = [m for m in officials if id(m) in electors] or officials
    # Secretaries are usually senior: choose among the older half of the officials.
    officials.sort(key=lambda m: (m.date_of_birth, m.full_name))
    senior = officials[: max(2, len(officials) // 2)]
    secretary = rng.choice(senior)
    others = [m for m in officials if m is not secretary]
    official_count = sum(1 for m in members if m.status == Member.Status.OFFICIAL)
    positions: dict[str, list[Member]] = {Position.Kind.SECRETARY: [secretary]}
    if official_count >= COMMITTEE_THRESHOLD:
        committee = rng.sample(others, min(len(others), 2 if official_count < 20 else 4))
        positions[Position.Kind.DEPUTY_SECRETARY] = committee[:1]
        positions[Position.Kind.COMMITTEE_MEMBER] = committee[1:]
    elif others and rng.random() < 0.7:
        positions[Position.Kind.DEPUTY_SECRETARY] = [rng.choice(others)]
    return positions


def _leader_title(rng: random.Random, cell: _Node, kind: str) -> str:
    """The job of a cell's secretary or deputy: the head of a small unit, a department head in a large one."""
    titles = SECTORS[cell.unit.sector].leader_titles
    if cell.kind == Organisation.Kind.CHI_BO_CO_SO:
        head, deputy = titles[0], titles[1]
        return (
            (head if rng.random() < 0.6 else deputy)
            if kind == Position.Kind.SECRETARY
            else rng.choice([deputy, *titles[2:]])
        )
    if kind == Position.Kind.SECRETARY and cell.parent.children.index(cell) == 0:
        return titles[1]
    return rng.choice(titles[2:])


def build_demo(
    *, scale: str | Scale = "demo", rng: random.Random | None = None, today: datetime.date | None = None
) -> DemoResult:
    """Build the demo Khối in an empty database and return what was made.

    Deterministic for a given ``rng`` seed and ``today``: dates are relative to ``today`` so that
    probationary members are always within their 12 months.
    """
    if isinstance(scale, str):
        scale = SCALES[scale]
    rng = rng or random.Random(DEMO_SEED)
    today = today or timezone.localdate()
    with transaction.atomic():
        root = plan_tree(scale=scale, rng=rng)
        organisations = _create_organisations(root)
        Term.objects.bulk_create(
            [Term(organisation=org, name=TERM_NAME, start=TERM_START) for org in organisations], batch_size=BATCH_SIZE
        )

        people = _People(rng, today)
        cells = [node for node in _walk(root) if node.is_cell]
        members_of: dict[_Node, list[Member]] = {}
        joined: dict[int, tuple[datetime.date, str]] = {}  # id(member) -> when and why they joined the cell
        for cell in cells:
            probationary = [rng.random() < PROBATIONARY_SHARE for _ in range(cell.member_count)]
            # Keep at least three official members to fill the cell's positions.
            while cell.member_count - sum(probationary) < 3:
                probationary[probationary.index(True)] = False
            if cell.featured and not any(probationary):
                probationary[-1] = True
            members = []
            for is_probationary in probationary:
                pensioner = not is_probationary and cell.unit.unit_type != AGENCY and rng.random() < 0.04
                member, joined_on, reason = people.member(cell=cell, probationary=is_probationary, pensioner=pensioner)
                member.organisation = cell.obj
                joined[id(member)] = (joined_on, reason)
                members.append(member)
            members_of[cell] = members
        all_members = [m for cell in cells for m in members_of[cell]]
        Member.objects.bulk_create(all_members, batch_size=BATCH_SIZE)

        CellMembership.objects.bulk_create(
            [
                CellMembership(
                    member=m, organisation=m.organisation, start=joined[id(m)][0], reason_in=joined[id(m)][1]
                )
                for m in all_members
            ],
            batch_size=BATCH_SIZE,
        )

        positions: list[Position] = []
        holders: set[int] = set()
        secretary_of: dict[_Node, Member] = {}
        retitled: list[Member] = []
        for cell in cells:
            elected = ELECTION_START + datetime.timedelta(days=rng.randrange(50))
            electors = {id(m) for m in members_of[cell] if joined[id(m)][0] <= elected}
            for kind, members in _pick_positions(rng, members_of[cell], electors).items():
                for member in members:
                    start = max(elected, joined[id(member)][0])
                    positions.append(Position(member=member, organisation=cell.obj, kind=kind, start=start))
                    holders.add(member.pk)
                    if kind in (Position.Kind.SECRETARY, Position.Kind.DEPUTY_SECRETARY):
                        member.job_title = _leader_title(rng, cell, kind)
                        retitled.append(member)
                    if kind == Position.Kind.SECRETARY:
                        secretary_of[cell] = member
        # Each chi bộ under a đảng ủy has a đảng ủy viên in charge: the secretary of a sibling cell.
        for tccs in root.children:
            tccs_cells = [node for node in _walk(tccs) if node.is_cell and node.kind == Organisation.Kind.CHI_BO]
            for index, cell in enumerate(tccs_cells):
                if len(tccs_cells) < 2:
                    break
                supervisor = secretary_of[tccs_cells[(index + 1) % len(tccs_cells)]]
                positions.append(
                    Position(member=supervisor, organisation=cell.obj, kind=Position.Kind.SUPERVISOR, start=TERM_START)
                )
        Position.objects.bulk_create(positions, batch_size=BATCH_SIZE)
        Member.objects.bulk_update(retitled, ["job_title"], batch_size=BATCH_SIZE)

        exemptions, suspensions = _exemptions_and_suspensions(
            rng, today, cells, members_of, holders, {id(m): joined[id(m)][0] for m in all_members}
        )
        Exemption.objects.bulk_create(exemptions, batch_size=BATCH_SIZE)
        Suspension.objects.bulk_create(suspensions, batch_size=BATCH_SIZE)

        featured_tccs = root.children[0]
        featured_cell = featured_tccs.children[0]
        _create_accounts(
            rng,
            root=root,
            featured_tccs=featured_tccs,
            featured_cell=featured_cell,
            members_of=members_of,
            holders=holders,
            secretary=secretary_of[featured_cell],
            exempt={e.member_id for e in exemptions},
            joined_on={m.pk: joined[id(m)][0] for m in members_of[featured_cell]},
            today=today,
        )

    nodes = list(_walk(root))
    counts = {
        "organisations": len(nodes),
        "tccs": sum(1 for node in nodes if node.kind in Organisation.TCCS_KINDS),
        "cells": len(cells),
        "members": len(all_members),
        "probationary": sum(1 for m in all_members if m.status == Member.Status.PROBATIONARY),
        "exempt": len(exemptions),
        "suspended": len(suspensions),
        "positions": len(positions),
        "accounts": len(DEMO_ACCOUNTS),
    }
    return DemoResult(counts=counts, root=root.obj, featured_tccs=featured_tccs.obj, featured_cell=featured_cell.obj)


def _exemptions_and_suspensions(rng, today, cells, members_of, holders, joined_on):
    """Exemptions and suspensions decided by the member's current cell: never before they joined it."""
    exemptions, suspensions = [], []
    for cell in cells:
        candidates = [m for m in members_of[cell] if m.status == Member.Status.OFFICIAL and m.pk not in holders]
        chosen = [
            m
            for m in candidates
            if rng.random() < (0.25 if m.dues_category == Member.DuesCategory.PENSIONER else 0.012)
        ]
        if cell.featured and not chosen and candidates:
            chosen = [candidates[-1]]
        for number, member in enumerate(chosen, start=1):
            start = max(
                today - datetime.timedelta(days=rng.randint(30, 700)),
                joined_on[id(member)] + datetime.timedelta(days=7),
            )
            reason = (
                EXEMPTION_REASONS[2]
                if member.dues_category == Member.DuesCategory.PENSIONER
                else rng.choice(EXEMPTION_REASONS[:2])
            )
            exemptions.append(
                Exemption(member=member, reason=reason, start=start, resolution_ref=f"{number:02d}-NQ/CB")
            )
    exempt = {e.member_id for e in exemptions}
    plain = [
        m
        for cell in cells
        if not cell.featured
        for m in members_of[cell]
        if m.pk not in holders and m.pk not in exempt and m.status == Member.Status.OFFICIAL
    ]
    for member in rng.sample(plain, min(len(plain), max(1, len(plain) // 600))):
        suspensions.append(
            Suspension(
                member=member,
                reason=SUSPENSION_REASON,
                start=max(
                    today - datetime.timedelta(days=rng.randint(10, 90)),
                    joined_on[id(member)] + datetime.timedelta(days=7),
                ),
                decision_ref=f"{rng.randint(10, 99)}-QĐ/ĐUK",
            )
        )
    return exemptions, suspensions


def _create_accounts(
    rng, *, root, featured_tccs, featured_cell, members_of, holders, secretary, exempt, joined_on, today
):
    """The five demo users; those who are party members are linked to their member record."""
    User = get_user_model()
    plain = [
        m
        for m in members_of[featured_cell]
        if m.pk not in holders and m.pk not in exempt and m.status == Member.Status.OFFICIAL
    ]
    # The demo member has an e-mail and has been in the cell longer than the meeting history, so
    # their own attendance record covers the whole of it.
    settled = today - datetime.timedelta(days=31 * (max(HISTORY_MONTHS.values()) + 1))
    plain.sort(key=lambda m: (not m.email, joined_on[m.pk] > settled, m.pk))
    sibling_cells = [node for node in _walk(featured_tccs) if node.is_cell and node is not featured_cell]
    officer = next(m for m in members_of[sibling_cells[0]] if m.pk not in holders and m.pk not in exempt)
    linked = {"bithu": secretary, "dangvien": plain[0], "danguy": officer}
    where = {
        Role.KHOI_ADMIN: root.obj,
        Role.COMMITTEE_VIEWER: root.obj,
        Role.TCCS_OFFICER: featured_tccs.obj,
        Role.CELL_SECRETARY: featured_cell.obj,
        Role.MEMBER: featured_cell.obj,
    }
    password = make_password(DEMO_PASSWORD)  # one hash: hashing is slow on purpose
    people = _People(rng, today)
    assignments = []
    for account in DEMO_ACCOUNTS:
        member = linked.get(account.username)
        if member is not None:
            family_middle, given = member.full_name.rsplit(" ", 1)
            email = member.email
        else:
            family, middle, given = people.name(Member.Sex.MALE if rng.random() < 0.6 else Member.Sex.FEMALE)
            family_middle, email = f"{family} {middle}", f"{account.username}@duk.example.com"
        user, _created = User.objects.update_or_create(
            username=account.username,
            defaults={
                "first_name": given,
                "last_name": family_middle,
                "email": email,
                "password": password,
                "is_active": True,
                "is_staff": account.role == Role.KHOI_ADMIN,
                "is_superuser": account.role == Role.KHOI_ADMIN,
            },
        )
        if member is not None:
            Member.objects.filter(user=user).update(user=None)
            Member.objects.filter(pk=member.pk).update(user=user)
        assignments.append(
            RoleAssignment(user=user, organisation=where[account.role], role=account.role, start=TERM_START)
        )
    RoleAssignment.objects.bulk_create(assignments)


# --- the cell's books: terms, dues, commitments, required documents -----------------------

COMMITMENT_TEXT = (
    "Tôi, {name}, đảng viên {cell}, cam kết năm {year}:\n"
    "1. Tuyệt đối trung thành với Đảng, chấp hành nghiêm Cương lĩnh, Điều lệ Đảng, nghị quyết, chỉ thị của Đảng, "
    "chính sách, pháp luật của Nhà nước.\n"
    "2. Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh; giữ gìn phẩm chất đạo đức, lối sống; "
    "không vi phạm những điều đảng viên không được làm.\n"
    "3. Hoàn thành tốt nhiệm vụ được giao; sinh hoạt đảng, đóng đảng phí đầy đủ, đúng quy định.\n"
    "4. Giữ mối liên hệ với chi ủy, đảng ủy nơi cư trú; gương mẫu thực hiện nghĩa vụ công dân."
)
ARREARS_SHARE = 0.015  # members left three months or more behind on their dues


def add_previous_terms(*, before: datetime.date) -> int:
    """The 2020–2025 term of every organisation, when the demo history reaches back before the demo term."""
    if before >= TERM_START:
        return 0
    have = set(Term.objects.filter(start=PREVIOUS_TERM_START).values_list("organisation_id", flat=True))
    rows = [
        Term(
            organisation_id=pk,
            name=PREVIOUS_TERM_NAME,
            start=PREVIOUS_TERM_START,
            end=TERM_START - datetime.timedelta(days=1),
        )
        for pk in Organisation.objects.values_list("pk", flat=True)
        if pk not in have
    ]
    Term.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def set_columns(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Write ``fields`` of many existing rows of ``model``: ``rows`` are ``(pk, value, ...)`` in ``fields`` order.

    For the columns ``bulk_create`` cannot set (``auto_now_add`` stamps the moment of the insert) and
    that differ row by row: one statement per batch (PostgreSQL joins a VALUES list, SQLite runs
    ``executemany`` in-process), not one query per row.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    columns = [model._meta.get_field(name) for name in fields]
    prepared = [
        (row[0], *(column.get_db_prep_save(value, connection) for column, value in zip(columns, row[1:], strict=True)))
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [pk.db_type(connection), *(column.db_type(connection) for column in columns)]
            values = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
            names = ", ".join(["pk", *(f"v{index}" for index in range(len(columns)))])
            assignments = ", ".join(f"{quote(column.column)} = v.v{index}" for index, column in enumerate(columns))
            for start in range(0, len(prepared), BATCH_SIZE):
                batch = prepared[start : start + BATCH_SIZE]
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([values] * len(batch))}) "  # noqa: S608
                    f"AS v({names}) WHERE {table}.{quote(pk.column)} = v.pk",
                    [value for row in batch for value in row],
                )
            return
        assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",  # noqa: S608
            [(*row[1:], row[0]) for row in prepared],
        )


def _pdf_text(text: str) -> str:
    return _ascii(text).replace("–", "-").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` (without diacritics: the standard Times font has none)."""
    content = ["BT", "/F1 13 Tf", "60 780 Td", "20 TL"] + [f"({_pdf_text(line)}) Tj T*" for line in lines] + ["ET"]
    stream = "\n".join(content).encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _signed_at(rng: random.Random, year: int) -> datetime.datetime:
    """When a member signed the year's commitment: a working hour between 5 January and 31 March."""
    day = datetime.date(year, 1, 5) + datetime.timedelta(days=rng.randint(0, 85))
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.randrange(60)))


def build_demo_books(
    *,
    rng: random.Random,
    today: datetime.date | None = None,
    featured_cell: Organisation | None = None,
    dues_months: int = 12,
    seed: int = DEMO_SEED,
) -> dict[str, int]:
    """The cells' books for the demo: dues lines, this year's commitments and the required documents.

    Gaps are deliberate: a few members are three months or more behind on dues, about one member
    in ten has no commitment yet, and some cells lack some documents (the featured cell has them all).
    """
    from django.core.files.base import ContentFile

    from cells.dues import dues_payments_bulk_create

    today = today or timezone.localdate()
    now = timezone.now()
    featured_id = featured_cell.pk if featured_cell else None
    cells = list(Organisation.objects.filter(kind__in=Organisation.CELL_KINDS).order_by("path"))
    members_of: dict[int, list[Member]] = {cell.pk: [] for cell in cells}
    for member in Member.objects.filter(organisation__in=cells, state=Member.State.ACTIVE).order_by("pk"):
        members_of[member.organisation_id].append(member)
    counts = {"dues": 0, "commitments": 0, "documents": 0}
    with transaction.atomic():
        # Dues: one call per cell keeps the engine's look-ups small.
        months = [_add_months(today.replace(day=1), -back) for back in range(dues_months - 1, -1, -1)]
        for index, cell in enumerate(cells):
            counts["dues"] += len(
                dues_payments_bulk_create(members=members_of[cell.pk], months=months, seed=seed + index)
            )
        linked = set(Member.objects.filter(user__isnull=False).values_list("pk", flat=True))
        candidates = [m for cell in cells for m in members_of[cell.pk] if m.pk not in linked]
        behind = rng.sample(candidates, max(1, round(len(candidates) * ARREARS_SHARE)))
        featured_plain = [m for m in members_of.get(featured_id, []) if m.pk not in linked]
        if featured_plain and not any(m.organisation_id == featured_id for m in behind):
            behind.append(featured_plain[-1])
        DuesPayment.objects.filter(member__in=behind, month__in=months[-3:]).update(
            amount_paid=0, paid_on=None, method=""
        )

        # Commitments, signed in the first quarter of their year: last year's (all signed) and this
        # year's, of which only those signed by now exist (none in the first days of January).
        commitments = []
        joined = dict(CellMembership.objects.filter(end__isnull=True).values_list("member_id", "start"))
        for year in (today.year - 1, today.year):
            for cell in cells:
                missing_one = cell.pk == featured_id and year == today.year
                for member in members_of[cell.pk]:
                    if missing_one and member.pk not in linked:
                        missing_one = False
                        continue
                    if cell.pk != featured_id and rng.random() >= 0.9:
                        continue
                    confirmed = _signed_at(rng, year)
                    if joined[member.pk].year > year:
                        continue  # signed that year's in the organisation they came from
                    if confirmed.date() < joined[member.pk]:  # joined after the first quarter: signs on arrival
                        confirmed += datetime.timedelta(days=(joined[member.pk] - confirmed.date()).days + 3)
                    if confirmed > now:
                        continue
                    commitments.append(
                        MemberCommitment(
                            member=member,
                            year=year,
                            confirmed_at=confirmed,
                            content=COMMITMENT_TEXT.format(name=member.full_name, cell=cell.name, year=year),
                            source=(
                                MemberCommitment.Source.PORTAL if member.pk in linked else MemberCommitment.Source.PAPER
                            ),
                        )
                    )
        MemberCommitment.objects.bulk_create(commitments, batch_size=BATCH_SIZE)
        counts["commitments"] = len(commitments)

        # Required documents: a small generated PDF for each one a cell has adopted.
        types = list(RequiredDocumentType.objects.filter(active=True).order_by("period", "order"))
        terms = {t.organisation_id: t for t in Term.objects.filter(organisation__in=cells, name=TERM_NAME)}
        years = [year for year in (today.year - 1, today.year) if year >= TERM_START.year]
        storage = CellDocument._meta.get_field("file").storage
        documents = []
        for cell in cells:
            featured = cell.pk == featured_id
            for document_type in types:
                if document_type.period == RequiredDocumentType.Period.TERM:
                    periods = [(terms.get(cell.pk), None, 0.92)]
                else:
                    periods = [(None, year, 0.95 if year < today.year else 0.82) for year in years]
                for term, year, share in periods:
                    if (term is None and year is None) or (not featured and rng.random() >= share):
                        continue
                    if term is not None:
                        adopted = min(term.start + datetime.timedelta(days=rng.randint(10, 100)), today)
                    else:
                        # A year's programmes are adopted in its first weeks: early in January, none yet.
                        adopted = datetime.date(year, 1, 5) + datetime.timedelta(days=rng.randint(0, 50))
                        if adopted > today:
                            continue
                    document = CellDocument(
                        organisation=cell,
                        document_type=document_type,
                        term=term,
                        year=year,
                        adopted_on=adopted,
                        content_type="application/pdf",
                        original_name=f"{document_type.code}-{year or 'toan-khoa'}.pdf",
                    )
                    pdf = tiny_pdf(
                        [
                            cell.name,
                            document_type.name,
                            f"Nhiem ky {term.name}" if term else f"Nam {year}",
                            f"Ngay ban hanh: {adopted:%d/%m/%Y}",
                            "Ban sao dien tu - du lieu mau (demo)",
                        ]
                    )
                    document.file.name = storage.save(
                        cell_document_upload_to(document, document.original_name), ContentFile(pdf)
                    )
                    documents.append(document)
        CellDocument.objects.bulk_create(documents, batch_size=BATCH_SIZE)
        counts["documents"] = len(documents)
        # Its own random stream, so the lines above stay what they were before the book had these parts.
        counts.update(
            _demo_remittances_and_funds(cells=cells, months=months, today=today, rng=random.Random(seed + 19))
        )
    return counts


REMITTED_SHARE = 0.9  # cell-months remitted upward; the rest show on the đảng ủy's list


def _demo_remittances_and_funds(*, cells, months, today: datetime.date, rng: random.Random) -> dict[str, int]:
    """The rest of each cell's dues book: remittances upward and activity funds, as a cell keeps them.

    Each month before the current one is remitted in full (its share under ``dues.dues_share``) early in
    the next month by about nine cells in ten; a cell whose share no rule states (a chi bộ cơ sở) remits
    nothing here. Each cell brings its paper book's balance forward in the first month, receives
    support from its unit once a quarter and spends a little every month. No audit rows (``seed_demo``).
    """
    from django.db.models import Sum

    from cells.dues import dues_share
    from cells.models import CellFundEntry, DuesRemittance

    collected = {
        (row["organisation"], row["month"]): row["total"]
        for row in DuesPayment.objects.filter(organisation__in=cells, month__in=months)
        .order_by()
        .values("organisation", "month")
        .annotate(total=Sum("amount_paid"))
    }
    remittances, entries = [], []
    current = today.replace(day=1)
    for cell in cells:
        receipt = voucher_in = voucher_out = 0
        entries.append(
            CellFundEntry(
                organisation=cell,
                kind=CellFundEntry.Kind.BROUGHT_FORWARD,
                entry_date=months[0],
                amount=rng.randrange(300, 2_000) * 1_000,
                purpose=f"Tồn quỹ sổ giấy đến hết tháng {_add_months(months[0], -1):%m/%Y}",
            )
        )
        for month in months:
            share = dues_share(collected=collected.get((cell.pk, month), 0), cell_kind=cell.kind, month=month)
            paid_on = _add_months(month, 1).replace(day=rng.randint(3, 10))
            if month < current and share.to_remit and paid_on <= today and rng.random() < REMITTED_SHARE:
                receipt += 1
                remittances.append(
                    DuesRemittance(
                        organisation=cell,
                        month=month,
                        remitted_on=paid_on,
                        amount=share.to_remit,
                        receipt_number=f"BL-{month:%y%m}-{receipt:03d}",
                    )
                )
            if month.month in (1, 4, 7, 10) and month.replace(day=15) <= today:
                voucher_in += 1
                entries.append(
                    CellFundEntry(
                        organisation=cell,
                        kind=CellFundEntry.Kind.RECEIPT,
                        entry_date=month.replace(day=15),
                        amount=rng.choice((500_000, 1_000_000)),
                        purpose="Cơ quan hỗ trợ kinh phí hoạt động của chi bộ",
                        voucher_number=f"PT-{voucher_in:02d}",
                    )
                )
            spent_on = month.replace(day=rng.randint(1, 25))
            if spent_on <= today:
                voucher_out += 1
                entries.append(
                    CellFundEntry(
                        organisation=cell,
                        kind=CellFundEntry.Kind.EXPENSE,
                        entry_date=spent_on,
                        amount=rng.randrange(5, 30) * 10_000,
                        purpose=rng.choice(
                            (
                                "Nước uống, văn phòng phẩm sinh hoạt chi bộ",
                                "Thăm hỏi đảng viên ốm đau",
                                "Mua tài liệu sinh hoạt chuyên đề",
                            )
                        ),
                        voucher_number=f"PC-{voucher_out:02d}",
                    )
                )
    DuesRemittance.objects.bulk_create(remittances, batch_size=BATCH_SIZE)
    CellFundEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    return {"remittances": len(remittances), "fund_entries": len(entries)}


# --- reading back and resetting ------------------------------------------------------------


def demo_accounts() -> list[dict]:
    """The demo accounts as they are in the database: username, role, organisation, member."""
    rows = []
    assignments = (
        RoleAssignment.objects.filter(user__username__in=DEMO_USERNAMES)
        .select_related("user", "organisation")
        .order_by("user__username")
    )
    by_user = {a.user.username: a for a in assignments}
    members = {
        m.user_id: m for m in Member.objects.filter(user__username__in=DEMO_USERNAMES).select_related("organisation")
    }
    for account in DEMO_ACCOUNTS:
        assignment = by_user.get(account.username)
        if assignment is None:
            continue
        member = members.get(assignment.user_id)
        rows.append(
            {
                "username": account.username,
                "role": account.role,
                "role_label": Role(account.role).label,
                "description": account.description,
                "organisation": assignment.organisation.name,
                "full_name": f"{assignment.user.last_name} {assignment.user.first_name}".strip(),
                "member": member.full_name if member else "",
            }
        )
    return rows


def _clear_protectors(queryset, *, depth: int = 0) -> None:
    """Delete the rows, in any app, whose PROTECT / RESTRICT key would stop ``queryset`` from being deleted.

    Follows CASCADE edges too: deleting an organisation cascades to its terms, which meetings protect.
    """
    model = queryset.model
    for relation in model._meta.related_objects:
        if relation.on_delete is None or relation.related_model is model:
            continue  # many-to-many rows go with the object; self-references are ordered by the caller
        related = relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": queryset})
        if relation.on_delete in (PROTECT, RESTRICT):
            _purge(related)
        elif relation.on_delete is CASCADE and depth < 4:
            _clear_protectors(related, depth=depth + 1)


def _purge(queryset) -> int:
    """Delete ``queryset`` and everything that depends on it, protected or not."""
    _clear_protectors(queryset)
    for _attempt in range(10):
        try:
            return queryset.delete()[0]
        except (ProtectedError, RestrictedError) as error:
            # A path the walk above did not cover: delete the blocking rows and try again.
            blockers = error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
            by_model: dict = {}
            for blocker in blockers:
                by_model.setdefault(type(blocker), []).append(blocker.pk)
            for blocker_model, pks in by_model.items():
                _purge(blocker_model._base_manager.filter(pk__in=pks))
    return queryset.delete()[0]


def reset_demo() -> dict[str, int]:
    """Delete the whole organisation tree, every member and the demo accounts.

    Order matters: members first (memberships and positions go with them), then organisations
    from the leaves up, because ``Organisation.parent`` is PROTECT.
    """
    with transaction.atomic():
        organisations = Organisation.objects.count()
        members = Member.objects.count()
        # The documents' files go once the rows are gone for good.
        storage = CellDocument._meta.get_field("file").storage
        files = [name for name in CellDocument.objects.values_list("file", flat=True) if name]
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
        _purge(Member.objects.all())
        deepest = Organisation.objects.order_by("-depth").values_list("depth", flat=True).first() or 0
        for depth in range(deepest, 0, -1):
            _purge(Organisation.objects.filter(depth=depth))
        _purge(get_user_model().objects.filter(username__in=DEMO_USERNAMES))
    return {"organisations": organisations, "members": members}
