"""The search box (issue #15): accent-insensitive everywhere, typo-tolerant on PostgreSQL, within what the user sees."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cells.models import Organisation
from lib.textsearch import fold, has_trigrams
from meetings import services as meeting_services
from meetings.models import Meeting
from meetings.search import meetings_found, members_found, organisations_found, parse_meeting_query
from tests.conftest import require_or_skip
from tests.factories import make_member, make_organisation

pytestmark = pytest.mark.django_db
URL = reverse("search")


def names(rows):
    return [getattr(row, "full_name", None) or row.name for row in rows]


@pytest.fixture
def postgres():
    require_or_skip(has_trigrams(connection), "PostgreSQL is not in use: the trigram search is PostgreSQL's")


@pytest.fixture
def an(tree, people):
    """Nguyễn Văn An of the officer's cell, a namesake in another đảng bộ, and two near names."""
    return {
        "here": make_member(organisation=tree.cell, full_name="Nguyễn Văn An"),
        "sibling": make_member(organisation=tree.sibling, full_name="Nguyễn Văn Bình"),
        "elsewhere": make_member(organisation=tree.other, full_name="Nguyễn Văn An"),
        "unrelated": make_member(organisation=tree.cell, full_name="Đỗ Thị Hương"),
    }


# --- the fold ------------------------------------------------------------------------------


def test_fold_strips_every_vietnamese_mark_and_reads_d_with_stroke_as_d():
    assert fold("Nguyễn  Văn Đạt") == "nguyen van dat"
    assert fold("ĐẢNG ỦY Khối, Chi bộ Ưng Hòa") == "dang uy khoi, chi bo ung hoa"
    assert fold("Phạm Thị Thủy Tiên") == "pham thi thuy tien"
    assert fold("") == "" and fold(None) == ""


def test_the_database_fold_agrees_with_the_python_fold(tree):
    """The SQL fold (portal_fold on SQLite, lower(immutable_unaccent()) on PostgreSQL) gives fold()'s answer."""
    from lib.textsearch import Folded

    samples = ["Nguyễn Văn Đạt", "ĐẢNG ỦY KHỐI", "Chi bộ Ưng Hòa", "Trần Thị Ngọc Ánh", "Lưu Quỳnh Hương"]
    for sample in samples:
        Organisation.objects.filter(pk=tree.other.pk).update(name=sample)
        folded = (
            Organisation.objects.filter(pk=tree.other.pk).annotate(f=Folded("name")).values_list("f", flat=True).get()
        )
        assert folded == fold(sample)


# --- accent-insensitive, on every database ---------------------------------------------------


def test_unaccented_words_find_the_accented_name(people, an):
    found = members_found(user=people.officer, query="nguyen van an")
    assert an["here"] in found and an["unrelated"] not in found
    assert list(found)[0] == an["here"]  # the whole name first
    assert an["here"] in members_found(user=people.officer, query="NGUYEN VĂN")
    assert an["unrelated"] in members_found(user=people.officer, query="do thi huong")


def test_words_in_any_order_and_the_d_with_stroke(people, an):
    assert an["here"] in members_found(user=people.officer, query="an nguyen")
    assert an["unrelated"] in members_found(user=people.officer, query="Do huong")


def test_an_officer_does_not_find_a_member_of_another_dang_bo(people, an):
    found = list(members_found(user=people.officer, query="nguyen van an"))
    assert an["here"] in found and an["elsewhere"] not in found
    admin_found = list(members_found(user=people.admin, query="nguyen van an"))
    assert an["here"] in admin_found and an["elsewhere"] in admin_found


def test_a_plain_member_finds_only_their_own_record(people, an):
    """The member pages show a plain member only their own record (design §2): the search does not widen it."""
    assert list(members_found(user=people.member, query="nguyen van")) == []
    assert list(members_found(user=people.member, query="le van dang vien")) == [people.members["member"]]
    assert list(members_found(user=people.other_secretary, query="nguyen van an")) == [an["elsewhere"]]


def test_cells_are_found_with_their_parent(tree, people):
    health = make_organisation(parent=tree.khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Y tế")
    twin = make_organisation(parent=health, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng")
    found = list(organisations_found(user=people.admin, query="chi bo van phong"))
    assert {o.pk for o in found} == {tree.cell.pk, twin.pk}
    assert {o.parent.name for o in found} == {"Đảng bộ Sở Tài chính", "Đảng bộ Sở Y tế"}
    assert list(organisations_found(user=people.officer, query="van phong")) == [tree.cell]
    # A plain member finds the cell whose meetings they follow, not the others.
    assert list(organisations_found(user=people.member, query="chi bo")) == [tree.cell]


# --- meetings: topic, kind, month ------------------------------------------------------------


def _meeting(cell, *, month, kind=Meeting.Kind.REGULAR, topic="", publish=True):
    start = timezone.make_aware(datetime.datetime(month.year, month.month, 10, 14))
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=kind,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        period_month=month,
        topic=topic,
    )
    return meeting_services.meeting_publish(meeting=meeting) if publish else meeting


def test_parse_meeting_query():
    asked = parse_meeting_query("Sinh hoạt chuyên đề tháng 3/2026 văn phòng")
    assert asked.month == datetime.date(2026, 3, 1)
    assert set(asked.kinds) == {Meeting.Kind.THEMATIC, Meeting.Kind.COMBINED}
    assert asked.text == "van phong"
    assert parse_meeting_query("2026-11").month == datetime.date(2026, 11, 1)
    assert parse_meeting_query("họp chi ủy 2025").kinds == (Meeting.Kind.COMMITTEE,)
    assert parse_meeting_query("họp chi ủy 2025").year == 2025
    assert parse_meeting_query("13/2026").month is None  # no 13th month: left as words


@pytest.mark.django_db
def test_meetings_by_month_kind_and_topic(tree, people, time_machine):
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 1, 5, 9)))
    march = _meeting(tree.cell, month=datetime.date(2026, 3, 1), topic="Học tập Nghị quyết Đại hội")
    april = _meeting(
        tree.cell, month=datetime.date(2026, 4, 1), kind=Meeting.Kind.COMBINED, topic="Chuyển đổi số trong cơ quan"
    )
    other = _meeting(tree.other, month=datetime.date(2026, 3, 1), topic="Học tập Nghị quyết")
    draft = _meeting(tree.cell, month=datetime.date(2026, 5, 1), topic="Nghị quyết dự thảo", publish=False)
    assert list(meetings_found(user=people.officer, query="03/2026")) == [march]
    assert list(meetings_found(user=people.officer, query="chuyen de")) == [april]
    assert list(meetings_found(user=people.officer, query="chuyen doi so")) == [april]
    assert list(meetings_found(user=people.officer, query="nghi quyet")) == [draft, march]
    assert list(meetings_found(user=people.officer, query="van phong 4/2026")) == [april]
    assert set(meetings_found(user=people.admin, query="hoc tap nghi quyet")) == {march, other}
    # A plain member: the published meetings of their own cell only.
    assert list(meetings_found(user=people.member, query="nghi quyet")) == [march]
    assert list(meetings_found(user=people.member, query="sinh hoat")) == []


# --- PostgreSQL: typos -----------------------------------------------------------------------


def test_a_typo_finds_the_name_on_postgresql(postgres, people, an):
    found = list(members_found(user=people.officer, query="nguyen vna"))
    assert found and found[0] == an["here"]
    assert an["elsewhere"] not in found
    assert an["unrelated"] not in found
    assert an["here"] in members_found(user=people.officer, query="nguyen van"), "accent-insensitive on PostgreSQL"


def test_a_typo_in_a_cell_name_on_postgresql(postgres, tree, people):
    assert tree.cell in organisations_found(user=people.officer, query="van phogn")


def test_the_trigram_indexes_exist_on_postgresql(postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN ('member_name_fold_trgm', 'org_name_fold_trgm')"
        )
        assert sorted(row[0] for row in cursor.fetchall()) == ["member_name_fold_trgm", "org_name_fold_trgm"]
        cursor.execute(
            "SELECT pronargs, provolatile FROM pg_proc WHERE proname = 'immutable_unaccent' ORDER BY pronargs"
        )
        assert cursor.fetchall() == [(1, "i"), (2, "i")]


# --- the page --------------------------------------------------------------------------------


def test_the_page_groups_results_by_kind_with_links(client_for, tree, people, an):
    page = client_for(people.officer).get(URL, {"q": "van"})
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("cells:member_detail", args=[an["here"].pk]) in body
    assert reverse("cells:member_detail", args=[an["elsewhere"].pk]) not in body
    assert reverse("cells:organisation_detail", args=[tree.cell.pk]) in body
    assert "Đảng bộ Sở Tài chính" in body  # the cell's parent
    assert [g["key"] for g in page.context["groups"]] == ["to-chuc", "dang-vien", "sinh-hoat"]


def test_a_plain_member_is_sent_to_the_cell_s_meetings(client_for, tree, people):
    body = client_for(people.member).get(URL, {"q": "van phong"}).content.decode()
    assert reverse("meetings:cell_list", args=[tree.cell.pk]) in body
    assert reverse("cells:organisation_detail", args=[tree.cell.pk]) not in body


def test_a_one_letter_query_is_refused_with_a_message(client_for, people):
    page = client_for(people.officer).get(URL, {"q": "a"})
    assert page.status_code == 200 and page.context["groups"] == []
    assert "Nhập ít nhất 2 ký tự để tìm." in page.content.decode()


def test_one_kind_is_paged_and_keeps_the_query(client_for, tree, people):
    for n in range(25):
        make_member(organisation=tree.cell, full_name=f"Trần Minh {n:02d}")
    client = client_for(people.officer)
    first = client.get(URL, {"q": "tran minh"})
    group = first.context["groups"][1]
    assert group["more"] and len(group["rows"]) == 5
    assert "loai=dang-vien" in first.content.decode()
    paged = client.get(URL, {"q": "tran minh", "loai": "dang-vien"})
    assert [g["key"] for g in paged.context["groups"]] == ["dang-vien"]
    assert len(paged.context["groups"][0]["rows"]) == 20 and paged.context["groups"][0]["count"] == 25
    body = paged.content.decode()
    assert "Trang 1/2" in body and "q=tran+minh&amp;loai=dang-vien&amp;trang=2" in body
    second = client.get(URL, {"q": "tran minh", "loai": "dang-vien", "trang": 2})
    assert len(second.context["groups"][0]["rows"]) == 5 and "Trang 2/2" in second.content.decode()


@pytest.mark.parametrize("count", [3, 40])
def test_the_query_count_does_not_grow_with_the_results(client_for, tree, people, count, django_assert_max_num_queries):
    for n in range(count):
        make_member(organisation=tree.cell, full_name=f"Vũ Văn {n:02d}")
        make_organisation(parent=tree.tccs, kind=Organisation.Kind.CHI_BO, name=f"Chi bộ Vũ {n:02d}")
    client = client_for(people.officer)
    with django_assert_max_num_queries(12):
        client.get(URL, {"q": "vu"})
    with django_assert_max_num_queries(12):
        client.get(URL, {"q": "vu", "loai": "dang-vien", "trang": 2})


def test_the_menu_has_the_search_box(client_for, people):
    body = client_for(people.member).get(reverse("meetings:my_home")).content.decode()
    assert f'action="{URL}"' in body and 'name="q"' in body


def test_a_two_letter_word_matches_at_the_start_of_a_word_only(tree, people):
    an = make_member(organisation=tree.cell, full_name="Nguyễn Văn An")
    anh = make_member(organisation=tree.cell, full_name="Lê Thị Ánh")
    binh = make_member(organisation=tree.cell, full_name="Trần Văn Bình")
    found = set(members_found(user=people.officer, query="an"))
    assert {an, anh} <= found and binh not in found
