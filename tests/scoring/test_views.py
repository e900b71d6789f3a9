"""The four access cases for every scoring view, and the main flows through the pages."""

import datetime
import subprocess

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cells.models import Position
from meetings.models import Attendance
from scoring import services
from scoring.models import AnnualRating, Inspection, MeetingScore
from scoring.schemes import plain_number

from .conftest import build_meeting, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(cell_of_ten, people):
    """A March 2026 meeting (HD 42) whose self-score the cell has adopted."""
    meeting = build_meeting(
        cell_of_ten[0].organisation,
        start=local(2026, 3, 17),
        speakers=cell_of_ten[:5],
        tasks=[("Việc A", [cell_of_ten[0]])],
    )
    score = services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    points = {line.pk: line.max_points for line in score.lines.filter(applicable=True, self_points__isnull=True)}
    services.meeting_score_self_save(score=score, points=points)
    return services.meeting_score_self_adopt(score=score)


@pytest.fixture
def rating(scored, tree, people):
    rows = services.annual_rating_open(cell=tree.cell, year=2026)
    return next(row for row in rows if row.member_id == people.members["member"].pk)


@pytest.fixture
def inspection(tree, people):
    return services.inspection_create(
        organisation=tree.cell,
        inspected_on=datetime.date(2026, 3, 1),
        inspectors="Đ/c Kiểm Tra",
        findings="Sổ sách đủ",
        follow_up="Bổ sung sổ",
        follow_up_due=datetime.date(2026, 4, 1),
        by=people.officer,
    )


def read_urls(scored, rating, tree):
    pk = scored.meeting_id
    return [
        reverse("scoring:meeting_score", args=[pk]),
        reverse("scoring:score_sheet_pdf", args=[pk]),
        reverse("scoring:cell_ratings", args=[tree.cell.pk, 2026]),
        reverse("scoring:rating_detail", args=[rating.pk]),
    ]


def write_urls(scored, rating, tree, inspection):
    return [
        reverse("scoring:self_score", args=[scored.meeting_id]),
        reverse("scoring:confirm", args=[scored.meeting_id]),
        reverse("scoring:rating_propose", args=[rating.pk]),
        reverse("scoring:rating_decide", args=[rating.pk]),
        reverse("scoring:inspection_create", args=[tree.cell.pk]),
        reverse("scoring:inspection_follow_up", args=[inspection.pk]),
    ]


def post_urls(scored, tree):
    return [
        reverse("scoring:prefill", args=[scored.meeting_id]),
        reverse("scoring:adopt", args=[scored.meeting_id]),
        reverse("scoring:ratings_open", args=[tree.cell.pk, 2026]),
    ]


LISTS = ["scoring:index", "scoring:supervision", "scoring:inspections"]


def test_anonymous_is_redirected_to_login_everywhere(client, scored, rating, tree, inspection):
    urls = (
        read_urls(scored, rating, tree)
        + write_urls(scored, rating, tree, inspection)
        + [reverse(name) for name in LISTS]
        + [reverse("scoring:rating_self", args=[rating.pk])]
    )
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    for url in post_urls(scored, tree):
        response = client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_secretary_of_other_cell_gets_404(client_for, people, scored, rating, tree, inspection):
    client = client_for(people.other_secretary)
    for url in (
        read_urls(scored, rating, tree)
        + write_urls(scored, rating, tree, inspection)
        + [reverse("scoring:rating_self", args=[rating.pk])]
    ):
        assert client.get(url).status_code == 404, url
    for url in post_urls(scored, tree):
        assert client.post(url).status_code == 404, url


def test_other_cell_lists_do_not_show_this_cell(client_for, people, scored, inspection):
    client = client_for(people.other_secretary)
    assert "Chi bộ Văn phòng" not in client.get(reverse("scoring:index")).content.decode()
    assert "Sổ sách đủ" not in client.get(reverse("scoring:inspections")).content.decode()
    assert "Chi bộ Văn phòng" not in client.get(reverse("scoring:supervision")).content.decode()


@pytest.mark.parametrize("reader", ["viewer", "clerk"])
def test_read_only_users_read_but_get_403_on_writes(client_for, people, scored, rating, tree, inspection, reader):
    client = client_for(getattr(people, reader))
    for url in read_urls(scored, rating, tree):
        assert client.get(url).status_code == 200, url
    for url in write_urls(scored, rating, tree, inspection):
        assert client.get(url).status_code == 403, url
    for url in post_urls(scored, tree):
        assert client.post(url).status_code == 403, url


def test_secretary_scores_but_cannot_confirm_decide_or_inspect(client_for, people, scored, rating, tree, inspection):
    client = client_for(people.secretary)
    for url in read_urls(scored, rating, tree) + [reverse(name) for name in LISTS]:
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("scoring:rating_propose", args=[rating.pk])).status_code == 200
    for url in [
        reverse("scoring:confirm", args=[scored.meeting_id]),
        reverse("scoring:rating_decide", args=[rating.pk]),
        reverse("scoring:inspection_create", args=[tree.cell.pk]),
        reverse("scoring:inspection_follow_up", args=[inspection.pk]),
    ]:
        assert client.get(url).status_code == 403, url


def test_member_reads_the_score_and_self_assesses_only_own_rating(client_for, people, scored, rating, tree):
    client = client_for(people.member)
    assert reverse("scoring:rating_detail", args=[rating.pk]) in client.get(reverse("scoring:index")).content.decode()
    assert client.get(reverse("scoring:meeting_score", args=[scored.meeting_id])).status_code == 200
    assert client.get(reverse("scoring:rating_self", args=[rating.pk])).status_code == 200
    assert client.get(reverse("scoring:rating_propose", args=[rating.pk])).status_code == 403
    own_cell_rating = AnnualRating.objects.get(organisation=tree.cell, member=None, year=2026)
    assert client.get(reverse("scoring:rating_detail", args=[own_cell_rating.pk])).status_code == 404
    assert client.post(reverse("scoring:adopt", args=[scored.meeting_id])).status_code == 403


@pytest.mark.parametrize("upper", ["officer", "admin"])
def test_upper_level_opens_every_page(client_for, people, scored, rating, tree, inspection, upper):
    client = client_for(getattr(people, upper))
    for url in (
        read_urls(scored, rating, tree)
        + write_urls(scored, rating, tree, inspection)
        + [reverse(name) for name in LISTS]
    ):
        assert client.get(url).status_code in (200, 302), url


def test_committee_viewer_confirms_only_where_assigned(client_for, people, scored, tree):
    client = client_for(people.viewer)
    url = reverse("scoring:confirm", args=[scored.meeting_id])
    assert client.get(url).status_code == 403
    viewer_member = people.members["sibling"]
    viewer_member.user = people.viewer
    viewer_member.save()
    Position.objects.create(
        member=viewer_member, organisation=tree.cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2020, 1, 1)
    )
    assert client.get(url).status_code == 200


# --- flows -----------------------------------------------------------------------------------


def test_secretary_prefills_fills_and_adopts_through_the_pages(client_for, people, cell_of_ten):
    meeting = build_meeting(
        cell_of_ten[0].organisation,
        start=local(2026, 4, 14),
        speakers=cell_of_ten[:5],
        absent={cell_of_ten[8]: (Attendance.Presence.ABSENT_UNEXCUSED, "")},
    )
    client = client_for(people.secretary)
    page = client.get(reverse("scoring:meeting_score", args=[meeting.pk])).content.decode()
    assert "Đề xuất điểm từ hồ sơ" in page and "HD 42-HD/BTCTW" in page
    client.post(reverse("scoring:prefill", args=[meeting.pk]))
    score = MeetingScore.objects.get(meeting=meeting)
    page = client.get(reverse("scoring:meeting_score", args=[meeting.pk])).content.decode()
    assert "Bí thư tự chấm" in page and "vắng không lý do 1" in page
    form = client.get(reverse("scoring:self_score", args=[meeting.pk])).content.decode()
    assert 'name="line_' in form
    # As a browser sends it: every field, the proposals as pre-filled, the manual criteria at full marks.
    data = {
        f"line_{line.pk}": str(plain_number(line.max_points if line.proposed_points is None else line.proposed_points))
        for line in score.lines.filter(applicable=True)
    }
    data["line_999999"] = "1"
    wrong = score.lines.get(criterion_code="6.1")
    response = client.post(reverse("scoring:self_score", args=[meeting.pk]), {**data, f"line_{wrong.pk}": "33"})
    assert response.status_code == 200 and "Hãy chọn một lựa chọn hợp lệ" in response.content.decode()
    response = client.post(reverse("scoring:self_score", args=[meeting.pk]), {**data, "weaknesses": "Ít phát biểu"})
    assert response.status_code == 302
    response = client.post(reverse("scoring:adopt", args=[meeting.pk]), follow=True)
    score.refresh_from_db()
    assert score.state == MeetingScore.State.SELF_ADOPTED and score.weaknesses == "Ít phát biểu"


def test_officer_changes_a_score_with_a_reason_through_the_page(client_for, people, scored):
    client = client_for(people.officer)
    url = reverse("scoring:confirm", args=[scored.meeting_id])
    line = scored.lines.get(criterion_code="4.2")
    response = client.post(url, {f"line_{line.pk}": "5"})
    assert response.status_code == 200 and "Cần ghi lý do" in response.content.decode()
    response = client.post(url, {f"line_{line.pk}": "5", "reason": "Nội dung chưa sát"})
    assert response.status_code == 302
    scored.refresh_from_db()
    assert scored.state == MeetingScore.State.CONFIRMED and scored.official_total == scored.self_total - 5


def _pdf_text(tmp_path, content: bytes) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_score_sheet_pdf_shows_the_level(client_for, people, scored, tmp_path, pdftotext_available):
    response = client_for(people.secretary).get(reverse("scoring:score_sheet_pdf", args=[scored.meeting_id]))
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(tmp_path, response.content)
    assert "PHIẾU CHẤM ĐIỂM" in text and "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert f"xếp loại {scored.scheme_snapshot['levels'][0]['name']}" in text or "xếp loại Khá" in text
    assert "TẠM THỜI" not in text


def test_qd31_score_sheet_pdf_and_page_carry_the_provisional_mark(
    client_for, people, cell_of_ten, tmp_path, pdftotext_available
):
    meeting = build_meeting(cell_of_ten[0].organisation, start=local(2025, 10, 27), speakers=cell_of_ten[:5])
    score = services.meeting_score_prefill(meeting=meeting)
    points = {line.pk: line.max_points for line in score.lines.filter(applicable=True, self_points__isnull=True)}
    services.meeting_score_self_save(score=score, points=points)
    score = services.meeting_score_self_adopt(score=score)
    client = client_for(people.secretary)
    page = client.get(reverse("scoring:meeting_score", args=[meeting.pk])).content.decode()
    assert "TẠM THỜI</span>" in page
    assert "tạm thời</span>" in client.get(reverse("scoring:index")).content.decode()
    text = _pdf_text(tmp_path, client.get(reverse("scoring:score_sheet_pdf", args=[meeting.pk])).content)
    assert "BỘ TIÊU CHÍ TẠM THỜI" in text and "31-QĐ/TU" in text
    level = {"tot": "Tốt", "kha": "Khá", "trung_binh": "Trung bình", "kem": "Kém"}[score.self_level]
    assert f"xếp loại {level}" in " ".join(text.split())


def test_supervision_lists_cells_without_an_upper_level_visit(client_for, people, tree, cell_of_ten):
    # The visit is at 08:00 on the quarter's first day, so it is in this quarter whatever the date; in
    # that day's first hours the clock moves on until the meeting is over (never back: the fixtures'
    # roles start today).
    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime(today.year, (today.month - 1) // 3 * 3 + 1, 1, 8))
    with time_machine.travel(max(timezone.now(), start + datetime.timedelta(hours=3)), tick=False):
        build_meeting(tree.cell, start=start, upper_guests=[people.members["sibling"]])
        page = client_for(people.officer).get(reverse("scoring:supervision")).content.decode()
        assert "Chi bộ Kế toán" in page and "Chi bộ Văn phòng" not in page
        page = client_for(people.admin).get(reverse("scoring:supervision")).content.decode()
        assert "Chi bộ Công ty Điện lực" in page


def test_officer_records_an_inspection_and_its_follow_up(client_for, people, tree):
    client = client_for(people.officer)
    url = reverse("scoring:inspection_create", args=[tree.cell.pk])
    response = client.post(url, {"inspected_on": "31/12/2999", "inspectors": "A", "findings": ""})
    assert response.status_code == 200 and not Inspection.objects.exists()
    response = client.post(
        url,
        {
            "inspected_on": "01/03/2026",
            "inspectors": "Đ/c A",
            "findings": "Thiếu sổ đảng phí",
            "follow_up": "Lập sổ",
            "follow_up_due": "01/04/2026",
            "minutes_book_ok": "on",
        },
    )
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.minutes_book_ok and not inspection.dues_book_ok and inspection.year == 2026
    response = client.post(
        reverse("scoring:inspection_follow_up", args=[inspection.pk]), {"done_on": "15/03/2026", "result": "Đã lập sổ"}
    )
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.follow_up_done_on == datetime.date(2026, 3, 15)


def test_rating_flow_through_the_pages_warns_the_upper_level(client_for, people, tree, cell_of_ten):
    secretary = client_for(people.secretary)
    response = secretary.post(reverse("scoring:ratings_open", args=[tree.cell.pk, 2026]))
    assert response.status_code == 302
    page = secretary.get(reverse("scoring:cell_ratings", args=[tree.cell.pk, 2026])).content.decode()
    assert "Không đánh giá, xếp loại" in page and cell_of_ten[9].full_name in page
    ratings = list(AnnualRating.objects.filter(year=2026, member__isnull=False).order_by("pk"))
    for rating in ratings[:4]:
        services.annual_rating_self_assess(rating=rating, level="httnv")
        services.annual_rating_propose(rating=rating, level="httnv")
        services.annual_rating_decide(rating=rating, level="httnv")
    target = ratings[4]
    assert (
        secretary.post(
            reverse("scoring:rating_self", args=[target.pk]), {"level": "htxsnv", "score": "92", "comment": "Tốt"}
        ).status_code
        == 302
    )
    assert (
        secretary.post(reverse("scoring:rating_propose", args=[target.pk]), {"level": "htxsnv", "note": ""}).status_code
        == 302
    )
    services.annual_rating_self_assess(rating=ratings[5], level="htxsnv")
    services.annual_rating_propose(rating=ratings[5], level="htxsnv")
    officer = client_for(people.officer)
    url = reverse("scoring:rating_decide", args=[target.pk])
    page = officer.get(url).content.decode()
    assert "vượt 20%" in page
    response = officer.post(url, {"level": "htxsnv", "note": ""})
    assert response.status_code == 200 and not AnnualRating.objects.get(pk=target.pk).decided_level
    response = officer.post(url, {"level": "htxsnv", "note": "", "acknowledge_warnings": "on"})
    assert response.status_code == 302 and AnnualRating.objects.get(pk=target.pk).decided_level == "htxsnv"


def test_score_page_and_rating_list_use_a_bounded_number_of_queries(
    client_for, people, scored, tree, django_assert_max_num_queries
):
    client = client_for(people.secretary)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("scoring:meeting_score", args=[scored.meeting_id])).status_code == 200
    services.annual_rating_open(cell=tree.cell, year=2026)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("scoring:cell_ratings", args=[tree.cell.pk, 2026])).status_code == 200


def test_inspection_findings_over_their_limit_are_refused_with_a_clear_message(client_for, people, tree):
    response = client_for(people.officer).post(
        reverse("scoring:inspection_create", args=[tree.cell.pk]),
        {"inspected_on": "01/03/2026", "inspectors": "Đ/c Kiểm Tra", "findings": "N" * 20_001},
    )
    assert response.status_code == 200
    assert "Nội dung quá dài: tối đa 20.000 ký tự, hiện có 20.001" in response.content.decode()
    assert not Inspection.objects.exists()


def test_the_confirm_page_of_a_confirmed_score_says_so_and_changes_nothing(client_for, people, scored):
    services.meeting_score_confirm(score=scored, by=people.officer)
    client = client_for(people.officer)
    page = client.get(reverse("scoring:meeting_score", args=[scored.meeting_id])).content.decode()
    url = reverse("scoring:confirm", args=[scored.meeting_id])
    assert url not in page
    line = scored.lines.get(criterion_code="4.2")
    response = client.post(url, {f"line_{line.pk}": "5", "reason": "Ghi đè"}, follow=True)
    assert "không xác nhận lại được" in response.content.decode()
    scored.refresh_from_db()
    assert scored.confirm_reason == "" and scored.official_total == scored.self_total
