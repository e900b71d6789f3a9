"""The yearly plan of thematic meetings and forums (issue #18, items 1 and 2), on a hand-built cell.

Chi bộ Văn phòng's plan for 2026, read on 20/08/2026 (Q3 in progress):

* quý I: topic "Học tập Nghị quyết Đại hội" planned, a thematic meeting held on 17/02/2026 → 1 held / 1 planned;
* quý II: topic "Chuyển đổi số" planned, nothing held → 0/1, failed (the quarter ended 30/06);
* quý III: nothing planned, a combined meeting held on 15/07/2026 → 1/0, met;
* quý IV: nothing → 0/0, not started;
* forums: one planned, linked to the forum held on 12/05/2026 → 1/1.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from cells import services as cell_services
from cells.models import Notification, Position
from meetings import indicators, reminders, selectors, services
from meetings.models import Meeting, PlannedTopic, ReminderDelivery, ReminderRule, TopicKind
from tests.factories import make_member
from tests.scoring.conftest import build_meeting, local

TODAY = datetime.date(2026, 8, 20)


@pytest.fixture
def plan_2026(tree, people, time_machine):
    time_machine.move_to(local(2026, 8, 20, 9), tick=False)
    secretary, member = people.members["secretary"], people.members["member"]
    bank = services.suggested_topic_create(
        publisher=tree.tccs, year=2026, title="Học tập Nghị quyết Đại hội", kind=TopicKind.THEMATIC
    )
    q1_meeting = build_meeting(tree.cell, start=local(2026, 2, 17), kind=Meeting.Kind.THEMATIC)
    q3_meeting = build_meeting(tree.cell, start=local(2026, 7, 15), kind=Meeting.Kind.COMBINED)
    forum = build_meeting(tree.cell, start=local(2026, 5, 12), kind=Meeting.Kind.FORUM)
    q1 = services.planned_topic_create(
        cell=tree.cell,
        year=2026,
        kind=TopicKind.THEMATIC,
        quarter=1,
        suggested=bank,
        drafter=member,
        draft_due=datetime.date(2026, 2, 5),
        meeting=q1_meeting,
        by=people.secretary,
    )
    q2 = services.planned_topic_create(
        cell=tree.cell,
        year=2026,
        kind=TopicKind.THEMATIC,
        quarter=2,
        title="Chuyển đổi số",
        drafter=secretary,
        draft_due=datetime.date(2026, 5, 10),
        by=people.secretary,
    )
    forum_topic = services.planned_topic_create(
        cell=tree.cell, year=2026, kind=TopicKind.FORUM, title="Thanh niên với đạo đức công vụ", meeting=forum
    )
    return type(
        "Plan", (), {"q1": q1, "q2": q2, "forum": forum_topic, "q1_meeting": q1_meeting, "q3_meeting": q3_meeting}
    )


def test_the_selector_gives_plan_against_held_per_quarter(tree, plan_2026):
    plan = selectors.thematic_plan(cell=tree.cell, year=2026, today=TODAY)
    counts = [(q["held_count"], q["planned_count"], q["status"]) for q in plan["quarters"]]
    assert counts == [
        (1, 1, indicators.MET),
        (0, 1, indicators.FAILED),
        (1, 0, indicators.MET),
        (0, 0, indicators.NOT_STARTED),
    ]
    q1, q2 = plan["quarters"][0]["topics"][0], plan["quarters"][1]["topics"][0]
    assert q1.title == "Học tập Nghị quyết Đại hội"  # the bank's title, picked without writing one
    assert q1.held_meeting == plan_2026.q1_meeting and q2.held_meeting is None
    assert plan["quarters"][2]["held_meetings"] == [plan_2026.q3_meeting]
    assert (plan["forum_held_count"], plan["forums"]["planned_count"]) == (1, 1)
    assert plan["forums"]["topics"][0].held_meeting.kind == Meeting.Kind.FORUM


def test_an_unlinked_topic_is_held_by_any_thematic_meeting_of_its_quarter(tree, people, plan_2026):
    topic = services.planned_topic_create(
        cell=tree.cell, year=2026, kind=TopicKind.THEMATIC, quarter=3, title="Bổ sung"
    )
    plan = selectors.thematic_plan(cell=tree.cell, year=2026, today=TODAY)
    assert plan["quarters"][2]["topics"][0].pk == topic.pk
    assert plan["quarters"][2]["topics"][0].held_meeting == plan_2026.q3_meeting


def test_the_plan_page_shows_the_same(client_for, tree, people, plan_2026):
    response = client_for(people.secretary).get(reverse("meetings:plan", args=[tree.cell.pk, 2026]))
    assert response.status_code == 200
    html = response.content.decode()
    sections = {m: html.split(f'id="{m}"')[1].split("</section>")[0] for m in ("quy-1", "quy-2", "quy-3", "dien-dan")}
    assert "đã tổ chức 1 · kế hoạch 1" in sections["quy-1"] and "plan-held" in sections["quy-1"]
    assert "05/02/2026" in sections["quy-1"] and "Lê Văn Đảng Viên" in sections["quy-1"]
    assert "đã tổ chức 0 · kế hoạch 1" in sections["quy-2"] and "plan-not-held" in sections["quy-2"]
    assert "Không đạt" in sections["quy-2"] and "10/05/2026" in sections["quy-2"]
    assert "đã tổ chức 1 · kế hoạch 0" in sections["quy-3"] and "Chưa có chuyên đề" in sections["quy-3"]
    assert "đã tổ chức 1 · kế hoạch 1" in sections["dien-dan"] and "plan-held" in sections["dien-dan"]


def test_the_cell_page_summarises_the_plan(client_for, tree, people, plan_2026):
    html = client_for(people.member).get(reverse("meetings:cell_list", args=[tree.cell.pk])).content.decode()
    summary = re.sub(r"\s+", " ", html.split('class="mb-3 plan-summary"')[1].split("</p>")[0])
    for text in ("quý I 1/1", "quý II 0/1", "quý III 1/0", "quý IV 0/0", "diễn đàn 1/1"):
        assert text in summary


def test_the_upper_table_counts_by_cell_within_the_scope(client_for, tree, people, plan_2026):
    table = selectors.plan_table(scope=tree.tccs, year=2026, today=TODAY)
    rows = {row["cell"].pk: row for row in table["rows"]}
    assert set(rows) == {tree.cell.pk, tree.sibling.pk}  # not the other đảng bộ's cell
    mine = rows[tree.cell.pk]
    assert [(s["held"], s["planned"]) for s in mine["quarters"]] == [(1, 1), (0, 1), (1, 0), (0, 0)]
    assert mine["quarters"][1]["gap"] and mine["forums"] == {"held": 1, "planned": 1}
    assert [(s["held"], s["planned"]) for s in rows[tree.sibling.pk]["quarters"]] == [(0, 0)] * 4
    response = client_for(people.officer).get(reverse("meetings:plan_table", args=[tree.tccs.pk, 2026]))
    assert response.status_code == 200 and "Chi bộ Kế toán" in response.content.decode()
    dashboard = client_for(people.officer).get(reverse("reports:dashboard", args=[tree.tccs.pk]) + "?nam=2026")
    assert reverse("meetings:plan_table", args=[tree.tccs.pk, 2026]) in dashboard.content.decode()


# --- linking a meeting to its topic ----------------------------------------------------------


def _errors(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_a_meeting_links_only_to_a_topic_of_its_cell_year_kind_and_quarter(tree, people, plan_2026):
    make_member(organisation=tree.sibling, full_name="Ngô Văn Một")
    make_member(organisation=tree.sibling, full_name="Ngô Văn Hai")
    sibling_meeting = build_meeting(tree.sibling, start=local(2026, 4, 14), kind=Meeting.Kind.THEMATIC)
    regular = build_meeting(tree.cell, start=local(2026, 4, 20))
    q2 = plan_2026.q2

    def link(meeting, topic=q2):
        return services.planned_topic_update(
            topic=topic, title=topic.title, quarter=topic.quarter, drafter=topic.drafter, meeting=meeting
        )

    assert "không thuộc chi bộ" in _errors(lambda: link(sibling_meeting))["meeting"][0]
    assert "chuyên đề" in _errors(lambda: link(regular))["meeting"][0]  # a plain regular meeting is not thematic
    assert "không thuộc quý 2" in _errors(lambda: link(plan_2026.q3_meeting))["meeting"][0]  # 07/2026 is Q3
    assert "đã gắn với chuyên đề" in _errors(lambda: link(plan_2026.q1_meeting))["meeting"][-1]
    assert "chỉ gắn với buổi diễn đàn" in _errors(lambda: link(plan_2026.q3_meeting, plan_2026.forum))["meeting"][0]
    next_year = services.planned_topic_create(
        cell=tree.cell, year=2027, kind=TopicKind.THEMATIC, quarter=1, title="Năm sau"
    )
    assert "năm 2027" in _errors(lambda: link(plan_2026.q1_meeting, next_year))["meeting"][0]
    q2.refresh_from_db()
    assert q2.meeting is None  # nothing half-saved


def test_the_other_rules_of_a_plan_row(tree, people, plan_2026):
    errors = _errors(
        lambda: services.planned_topic_create(
            cell=tree.cell, year=2026, kind=TopicKind.THEMATIC, quarter=None, drafter=people.members["sibling"]
        )
    )
    assert set(errors) == {"quarter", "title", "drafter"}
    foreign = services.suggested_topic_create(publisher=tree.khoi, year=2025, title="Năm cũ", kind=TopicKind.THEMATIC)
    errors = _errors(
        lambda: services.planned_topic_create(
            cell=tree.cell, year=2026, kind=TopicKind.THEMATIC, quarter=4, suggested=foreign
        )
    )
    assert set(errors) == {"suggested"}
    with pytest.raises(ValidationError):
        services.suggested_topic_create(publisher=tree.cell, year=2026, title="Của chi bộ", kind=TopicKind.THEMATIC)


def test_the_edit_form_shows_the_link_error_next_to_the_meeting(client_for, tree, people, plan_2026):
    client = client_for(people.secretary)
    url = reverse("meetings:plan_topic_edit", args=[plan_2026.q2.pk])
    response = client.post(url, {"quarter": "2", "title": "Chuyển đổi số", "meeting": plan_2026.q3_meeting.pk})
    assert response.status_code == 200
    assert "không thuộc quý 2" in response.context["form"].errors["meeting"][0]
    assert PlannedTopic.objects.get(pk=plan_2026.q2.pk).meeting is None


def test_add_from_the_bank_edit_and_approve_through_the_pages(client_for, tree, people, plan_2026):
    client = client_for(people.secretary)
    bank = services.suggested_topic_create(publisher=tree.khoi, year=2026, title="Diễn đàn Khối", kind=TopicKind.FORUM)
    page = client.get(reverse("meetings:plan", args=[tree.cell.pk, 2026])).content.decode()
    assert "Diễn đàn Khối" in page and "Học tập Nghị quyết Đại hội" in page
    add = reverse("meetings:plan_topic_add", args=[tree.cell.pk, 2026]) + "?loai=forum"
    response = client.post(add, {"suggested": bank.pk, "title": "", "draft_due": "15/10/2026"})
    assert response.status_code == 302
    topic = PlannedTopic.objects.get(suggested=bank)
    assert (topic.kind, topic.quarter, topic.title, topic.draft_due) == (
        TopicKind.FORUM,
        None,
        "Diễn đàn Khối",
        datetime.date(2026, 10, 15),
    )
    assert client.post(reverse("meetings:plan_topic_approve", args=[topic.pk])).status_code == 302
    topic.refresh_from_db()
    assert topic.approved_at is not None and topic.approved_by == people.secretary
    # a new title is a new plan: the approval is cleared
    edit = reverse("meetings:plan_topic_edit", args=[topic.pk])
    assert client.post(edit, {"title": "Diễn đàn thanh niên"}).status_code == 302
    topic.refresh_from_db()
    assert topic.title == "Diễn đàn thanh niên" and topic.approved_at is None
    bad = client.post(reverse("meetings:plan_topic_add", args=[tree.cell.pk, 2026]), {"draft_due": "31/02/2026"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"quarter", "draft_due"}


def test_the_bank_is_published_by_the_upper_level(client_for, tree, people):
    url = reverse("meetings:plan_bank", args=[tree.tccs.pk, 2026])
    response = client_for(people.officer).post(url, {"kind": "thematic", "title": "Chuyên đề của Đảng ủy Sở"})
    assert response.status_code == 302
    assert [t.title for t in selectors.suggested_topics_for(cell=tree.cell, year=2026)] == ["Chuyên đề của Đảng ủy Sở"]
    assert not selectors.suggested_topics_for(cell=tree.other, year=2026).exists()  # another đảng bộ's cell


# --- scope ------------------------------------------------------------------------------------


def test_scope_refusals(client_for, tree, people, plan_2026):
    q2 = plan_2026.q2
    member = client_for(people.member)
    assert member.get(reverse("meetings:plan", args=[tree.cell.pk, 2026])).status_code == 200
    assert member.get(reverse("meetings:plan_topic_add", args=[tree.cell.pk, 2026])).status_code == 403
    assert member.post(reverse("meetings:plan_topic_approve", args=[q2.pk])).status_code == 403
    viewer = client_for(people.viewer)
    assert viewer.get(reverse("meetings:plan_topic_edit", args=[q2.pk])).status_code == 403
    assert viewer.get(reverse("meetings:plan_bank", args=[tree.khoi.pk, 2026])).status_code == 403
    assert viewer.get(reverse("meetings:plan_table", args=[tree.khoi.pk, 2026])).status_code == 200
    other = client_for(people.other_secretary)
    assert other.get(reverse("meetings:plan", args=[tree.cell.pk, 2026])).status_code == 404
    assert other.post(reverse("meetings:plan_topic_approve", args=[q2.pk])).status_code == 404
    officer = client_for(people.officer)
    assert officer.get(reverse("meetings:plan_table", args=[tree.khoi.pk, 2026])).status_code == 404
    assert officer.get(reverse("meetings:plan_table", args=[tree.cell.pk, 2026])).status_code == 404
    assert (
        client_for(people.secretary).get(reverse("meetings:plan_table", args=[tree.tccs.pk, 2026])).status_code == 404
    )
    assert officer.get(reverse("meetings:plan", args=[tree.cell.pk, 1999])).status_code == 404
    q2.refresh_from_db()
    assert q2.approved_at is None


# --- the reminder -----------------------------------------------------------------------------


@pytest.fixture
def rule(db):
    importlib.import_module("meetings.migrations.0021_thematic_plan_reminder_rule").seed(apps, None)
    return ReminderRule.objects.get(code="thematic_plan_unscheduled")


@pytest.fixture
def planned_q4(tree, people, rule):
    secretary, drafter = people.members["secretary"], people.members["member"]
    cell_services.position_assign(
        member=secretary, organisation=tree.cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 1, 1)
    )
    topics = {
        quarter: services.planned_topic_create(
            cell=tree.cell,
            year=2026,
            kind=TopicKind.THEMATIC,
            quarter=quarter,
            title=f"Chuyên đề quý {quarter}",
            drafter=drafter,
        )
        for quarter in (1, 2, 3, 4)
    }
    return topics


def _run(rule, when: datetime.datetime) -> int:
    return reminders.reminder_rule_run(rule_id=rule.pk, now=when)


@pytest.mark.parametrize(
    ("quarter", "first_day"),
    [
        (1, datetime.date(2026, 2, 17)),  # 31/03 − 42 days
        (2, datetime.date(2026, 5, 19)),  # 30/06 − 42 days
        (3, datetime.date(2026, 8, 19)),  # 30/09 − 42 days
        (4, datetime.date(2026, 11, 19)),  # 31/12 − 42 days
    ],
)
def test_the_reminder_starts_six_weeks_before_the_quarter_ends(
    rule, planned_q4, people, time_machine, quarter, first_day
):
    assert reminders.THEMATIC_PLAN_WARNING_DAYS == 42
    day_before = first_day - datetime.timedelta(days=1)
    time_machine.move_to(local(day_before.year, day_before.month, day_before.day, 23, 30), tick=False)
    assert _run(rule, local(day_before.year, day_before.month, day_before.day, 23, 30)) == 0
    time_machine.move_to(local(first_day.year, first_day.month, first_day.day, 0, 30), tick=False)
    assert _run(rule, local(first_day.year, first_day.month, first_day.day, 0, 30)) == 2
    sent = Notification.objects.filter(kind="meetings.reminder.thematic_plan_unscheduled")
    assert sorted(sent.values_list("member__full_name", flat=True)) == ["Lê Văn Đảng Viên", "Trần Thị Bí Thư"]
    assert f"Chuyên đề quý {quarter}" in sent.first().subject
    assert set(ReminderDelivery.objects.values_list("object_id", "occurrence")) == {
        (planned_q4[quarter].pk, f"2026-Q{quarter}")
    }
    assert _run(rule, local(first_day.year, first_day.month, first_day.day, 12)) == 0  # once only
    last = first_day + datetime.timedelta(days=42)
    time_machine.move_to(local(last.year, last.month, last.day, 23, 59), tick=False)
    assert _run(rule, local(last.year, last.month, last.day, 23, 59)) == 0  # the quarter's last day: still once


def test_no_reminder_when_a_thematic_meeting_is_scheduled_in_the_quarter(rule, planned_q4, tree, people, time_machine):
    time_machine.move_to(local(2026, 11, 19, 8), tick=False)
    services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.THEMATIC,
        planned_start=local(2026, 12, 10, 14),
        planned_end=local(2026, 12, 10, 16),
    )
    assert _run(rule, local(2026, 11, 19, 8)) == 0
    Meeting.objects.filter(organisation=tree.cell).update(state=Meeting.State.CANCELLED)
    assert _run(rule, local(2026, 11, 19, 9)) == 2  # a cancelled meeting schedules nothing


def test_the_rule_row_is_seeded_and_its_window_is_hand_worked(rule):
    assert rule.enabled and rule.params == {}
    assert reminders.thematic_plan_window_start(datetime.date(2026, 12, 31)) == datetime.date(2026, 11, 19)
    assert reminders.thematic_plan_window_start(datetime.date(2027, 3, 31)) == datetime.date(2027, 2, 17)
