"""Party document formatting, the render_document command and bounded queries on the pages."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from meetings import services
from meetings.formatting import party_day, place_and_date
from meetings.models import Resolution
from tests.factories import make_member

from .conftest import hold

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day, expected", [
    (datetime.date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
    (datetime.date(2026, 1, 31), "ngày 31 tháng 01 năm 2026"),
    (datetime.date(2026, 3, 15), "ngày 15 tháng 3 năm 2026"),
    (datetime.date(2026, 11, 5), "ngày 05 tháng 11 năm 2026"),
])
def test_party_day_leading_zeros(day, expected):
    assert party_day(day) == expected


def test_place_and_date_line():
    assert place_and_date(datetime.date(2026, 2, 5)) == "Đông Hà, ngày 05 tháng 02 năm 2026"


@pytest.fixture
def adopted(meeting):
    meeting = hold(meeting)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.RESOLUTION, text="Nghị quyết tháng")
    return services.meeting_adopt_minutes(meeting=meeting)


@pytest.mark.parametrize("kind", ["minutes", "notice", "resolution"])
def test_render_document_command_writes_a_pdf(adopted, tmp_path, kind):
    output = tmp_path / f"{kind}.pdf"
    call_command("render_document", kind, str(adopted.pk), "--output", str(output))
    assert output.read_bytes().startswith(b"%PDF")


def test_render_minutes_book_command(adopted, tree, tmp_path):
    output = tmp_path / "book.pdf"
    year = adopted.actual_start.year
    call_command("render_document", "minutes-book", f"{tree.cell.pk}:{year}", "--output", str(output))
    assert output.read_bytes().startswith(b"%PDF")


def test_render_document_unknown_meeting(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("render_document", "minutes", "999999", "--output", str(tmp_path / "x.pdf"))


def test_meeting_page_queries_do_not_grow_with_members(client_for, people, tree, meeting,
                                                       django_assert_max_num_queries):
    for n in range(25):
        make_member(organisation=tree.cell, full_name=f"Thành Viên {n}")
    meeting = hold(meeting)
    client = client_for(people.secretary)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(reverse("meetings:minutes", args=[meeting.pk])).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(reverse("meetings:cell_list", args=[tree.cell.pk])).status_code == 200
