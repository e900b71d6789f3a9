"""Issue 15 item 6: the change log reads in Vietnamese — action names, the object's name and page,
field labels, values as their labels, local dd/mm/yyyy hh:mm, people by full name — in a bounded
number of queries, with the filters kept across paging and in the export."""

import ast
import datetime
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cells import services as cell_services
from cells.audit import HIDDEN_FIELDS, REGISTRY, field_label
from cells.models import AuditEntry, Organisation
from scoring import services as scoring_services
from scoring.models import MeetingScore
from tests.factories import make_member
from tests.scoring.conftest import build_meeting, local

pytestmark = pytest.mark.django_db

URL = reverse("audit:audit_list")
EXPORT = reverse("audit:audit_export")
APPS = ("cells", "meetings", "scoring", "reports", "lib", "config")
AUDIT_CODE = re.compile(r"^(cells|meetings|scoring|reports)\.[a-z_]+\.[a-z_]+$")
# Stock names Django gives a field declared without a label: "member", "recorded by" (English).
ENGLISH_WORD = re.compile(r"^[A-Za-z _]+$")


def _called_name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _creates_an_entry(call: ast.Call) -> bool:
    """``AuditEntry.objects.create(...)``: a row written without ``audit_log`` (a reveal, an export)."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "create"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "objects"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "AuditEntry"
    )


def _written_action_codes() -> tuple[set[str], list[str]]:
    """Every action code the code writes, and the writes whose code is not a literal.

    The writers are ``audit_log`` and every helper that hands its own ``action`` argument on to a
    writer (``_log``, ``_rating_log``, ...), found to a fixpoint; a code must be a string literal (or
    a conditional between literals) at the call of a writer, so this walk sees all of them.
    """
    modules = []
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" not in path.parts:
                modules.append((path, ast.parse(path.read_text(encoding="utf-8"))))
    writers = {"audit_log"}
    while True:
        found = set(writers)
        for _path, tree in modules:
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef):
                    continue
                for call in ast.walk(function):
                    if (
                        isinstance(call, ast.Call)
                        and _called_name(call) in writers
                        and any(
                            k.arg == "action" and isinstance(k.value, ast.Name) and k.value.id == "action"
                            for k in call.keywords
                        )
                    ):
                        found.add(function.name)
        if found == writers:
            break
        writers = found
    codes, opaque = set(), []
    for path, tree in modules:
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not (_called_name(call) in writers or _creates_an_entry(call)):
                continue
            for keyword in (k for k in call.keywords if k.arg == "action"):
                value = keyword.value
                branches = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
                for branch in branches:
                    if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                        codes.add(branch.value)
                    elif not (isinstance(branch, ast.Name) and branch.id == "action"):
                        opaque.append(f"{path.relative_to(settings.BASE_DIR)}:{call.lineno}")
    return codes, opaque


def test_every_action_code_the_code_writes_has_a_vietnamese_label():
    codes, opaque = _written_action_codes()
    assert not opaque, f"write audit action codes as literals so they can be checked: {opaque}"
    assert len(codes) > 60  # the walk found the services' calls (the project writes about 75 codes)
    assert all(AUDIT_CODE.match(code) for code in codes), sorted(code for code in codes if not AUDIT_CODE.match(code))
    missing = sorted(code for code in codes if code not in REGISTRY.actions)
    assert not missing, f"add a label for these action codes to the app's audit.py: {missing}"
    for code in codes:
        label = str(REGISTRY.actions[code])
        assert label and label != code and not ENGLISH_WORD.match(label), code
    stale = sorted(set(REGISTRY.actions) - codes)
    assert not stale, f"labels of action codes the code no longer writes: {stale}"


def test_every_field_of_an_audited_model_has_a_vietnamese_label():
    from django.apps import apps

    unlabelled = []
    for label in REGISTRY.objects:
        model = apps.get_model(label)
        for field in model._meta.concrete_fields:
            if field.name in HIDDEN_FIELDS:
                continue
            shown = field_label(field.attname, field)
            if ENGLISH_WORD.match(shown) and not shown.isupper():
                unlabelled.append(f"{label}.{field.name}: {shown!r}")
    assert not unlabelled, unlabelled


@pytest.fixture
def confirmed(tree, people):
    """A meeting of cell A scored by the cell and confirmed by the đảng ủy cơ sở's officer at 23:30
    local time on 31/03/2026 (16:30 UTC: the date differs between UTC and Asia/Ho_Chi_Minh only after
    midnight, so the test uses a time after 17:00 UTC)."""
    officer_member = make_member(organisation=tree.sibling, full_name="Vũ Thị Cán Bộ")
    officer_member.user = people.officer
    officer_member.save(update_fields=["user"])
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    score = scoring_services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    for line in score.lines.filter(applicable=True, self_points__isnull=True):
        line.self_points = line.max_points
        line.save(update_fields=["self_points"])
    score = scoring_services.meeting_score_self_adopt(score=score, by=people.secretary)
    with time_machine.travel(datetime.datetime(2026, 3, 31, 17, 45, tzinfo=datetime.UTC), tick=False):
        score = scoring_services.meeting_score_confirm(score=score, by=people.officer)
    entry = AuditEntry.objects.get(action="scoring.meetingscore.confirm")
    return type("Confirmed", (), {"meeting": meeting, "score": score, "entry": entry})


def _row(response, entry):
    return next(row for row in response.context["rows"] if row.entry.pk == entry.pk)


def test_a_confirmation_reads_in_vietnamese(client_for, people, confirmed):
    response = client_for(people.admin).get(URL)
    row = _row(response, confirmed.entry)
    page = response.content.decode()
    table = page[page.index('<table class="table table-sm audit-log">') : page.index("</table>")]
    assert row.action == "Xác nhận điểm cuộc họp"
    assert row.actor == "Vũ Thị Cán Bộ"  # the officer's member record, not the login "officer"
    assert row.object_kind == "Điểm buổi sinh hoạt"
    assert row.object_name == f"Sinh hoạt thường kỳ 03/2026 — {confirmed.meeting.organisation.name}"
    assert row.object_url == reverse("scoring:meeting_score", args=[confirmed.meeting.pk])
    changes = {change.label: (change.before, change.after) for change in row.changes}
    state = MeetingScore._meta.get_field("state")
    assert changes[str(state.verbose_name)[:1].upper() + str(state.verbose_name)[1:]] == (
        MeetingScore.State.SELF_ADOPTED.label,
        MeetingScore.State.CONFIRMED.label,
    )
    assert changes["Người xác nhận"] == ("—", "Vũ Thị Cán Bộ")
    # 17:45 UTC on 31/03 is 00:45 on 01/04 in Asia/Ho_Chi_Minh.
    assert changes["Thời điểm xác nhận"] == ("—", "01/04/2026 00:45")
    official = next(
        level["name"]
        for level in confirmed.score.scheme_snapshot["levels"]
        if level["code"] == confirmed.score.official_level
    )
    assert changes["Xếp loại chính thức"] == ("—", official) and official != confirmed.score.official_level
    # Nothing of the developer's view is left in the log (the filter's option values are codes, unseen).
    for raw in (
        "scoring.meetingscore.confirm",
        "confirmed_by_id",
        "self_adopted",
        "None",
        ">officer<",
        "2026-03-31T",
        "∅",
        "_id",
        "{",
    ):
        assert raw not in re.sub(r'href="[^"]*"', "", table), raw
    assert f'href="{row.object_url}"' in page


def test_the_time_of_an_entry_is_local(client_for, people, tree):
    with time_machine.travel(datetime.datetime(2026, 2, 28, 16, 30, tzinfo=datetime.UTC), tick=False):
        entry = cell_services.audit_log(
            actor=people.admin,
            action="cells.organisation.update",
            instance=tree.cell,
            organisation=tree.cell,
            before={"name": "A"},
            after={"name": "B"},
        )
    response = client_for(people.admin).get(URL)
    assert "28/02/2026 23:30" in response.content.decode()
    name = str(Organisation._meta.get_field("name").verbose_name)
    assert [(c.label, c.before, c.after) for c in _row(response, entry).changes] == [
        (name[:1].upper() + name[1:], "A", "B")
    ]


def test_values_are_shown_as_their_labels(client_for, people, tree):
    member = people.members["member"]
    cell_services.member_update(
        member=member, by=people.secretary, phone="0912345678", date_of_birth=datetime.date(1980, 2, 29)
    )
    entry = AuditEntry.objects.filter(action="cells.member.update").latest("pk")
    row = _row(client_for(people.admin).get(URL), entry)
    values = {change.label: change.after for change in row.changes}
    # A phone is personal data: masked in the log as everywhere (cells/privacy.py, issue 21).
    assert values["Điện thoại"] == "0xx xxx x678" and "0912345678" not in values.values()
    assert "29/02/1980" in values.values()
    assert row.object_name == member.full_name and row.object_url == reverse("cells:member_detail", args=[member.pk])


def test_booleans_foreign_keys_and_nothing(client_for, people, tree):
    from cells.models import Member

    member = people.members["member"]
    before = cell_services.snapshot(member)
    after = {**before, "organisation_id": tree.sibling.pk, "user_id": None}
    entry = cell_services.audit_log(
        actor=people.admin,
        action="cells.member.transfer",
        instance=member,
        organisation=tree.cell,
        before=before,
        after=after,
    )
    toggle = cell_services.audit_log(
        actor=people.admin,
        action="cells.member.reminder_email",
        instance=member,
        organisation=tree.cell,
        before={"optional_reminder_email": True},
        after={"optional_reminder_email": False},
    )
    response = client_for(people.admin).get(URL)
    changes = {change.label: (change.before, change.after) for change in _row(response, entry).changes}
    organisation_label = str(Member._meta.get_field("organisation").verbose_name)
    assert changes[organisation_label] == (tree.cell.name, tree.sibling.name)
    assert changes["Tài khoản"] == (member.full_name, "—")  # the account, named as its person
    assert [(c.label, c.before, c.after) for c in _row(response, toggle).changes] == [
        (field_label("optional_reminder_email", Member._meta.get_field("optional_reminder_email")), "Có", "Không")
    ]


def test_an_officer_sees_no_link_to_an_object_outside_their_subtree(client_for, people, tree):
    """A member of another đảng bộ: the entry is bound to the officer's cell, the member is not theirs."""
    stranger = people.members["other"]
    entry = cell_services.audit_log(
        actor=people.admin,
        action="cells.member.update",
        instance=stranger,
        organisation=tree.cell,
        before={"phone": "1"},
        after={"phone": "2"},
    )
    row = _row(client_for(people.officer).get(URL), entry)
    assert row.object_name == stranger.full_name and row.object_url is None
    assert _row(client_for(people.admin).get(URL), entry).object_url == reverse(
        "cells:member_detail", args=[stranger.pk]
    )


def test_a_deleted_object_is_named_as_deleted(client_for, people, tree):
    member = make_member(organisation=tree.cell, full_name="Người Sẽ Xoá")
    entry = cell_services.audit_log(
        actor=people.admin,
        action="cells.member.update",
        instance=member,
        organisation=tree.cell,
        before={"phone": "1"},
        after={"phone": "2"},
    )
    member.delete()
    row = _row(client_for(people.admin).get(URL), entry)
    assert "đã xoá" in row.object_name and row.object_url is None


def test_a_nested_value_reads_without_python_syntax(client_for, people, tree):
    entry = cell_services.audit_log(
        actor=people.admin,
        action="scoring.scheme.edit",
        instance=tree.khoi,
        before={"proposed": {"1/1.1": None, "1/1.2": "5.00"}, "flag": None},
        after={"proposed": {"1/1.1": "2.50", "1/1.2": "5.00"}, "flag": True},
    )
    response = client_for(people.admin).get(URL)
    changes = [(c.before, c.after) for c in _row(response, entry).changes]
    page = response.content.decode()
    assert ("1/1.1: —; 1/1.2: 5.00", "1/1.1: 2.50; 1/1.2: 5.00") in changes
    assert ("—", "Có") in changes
    assert "{" not in "".join(b + a for b, a in changes) and "'None'" not in page


def _mixed_objects(people, tree):
    """Objects of many kinds, with the foreign keys their entries name (a chair, a confirmer)."""
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    score = scoring_services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    line = score.lines.first()
    attendance = meeting.attendances.first()
    member = people.members["member"]
    objects = [
        (meeting, "meetings.meeting.update", {"chair_id": member.pk, "state": "held"}),
        (score, "scoring.meetingscore.update", {"confirmed_by_id": people.officer.pk, "state": "draft"}),
        (line, "scoring.meetingscoreline.self", {"self_points": "3.00"}),
        (attendance, "meetings.attendance.record", {"presence": "present", "member_id": member.pk}),
        (member, "cells.member.update", {"organisation_id": tree.cell.pk, "status": "chinh_thuc"}),
        (tree.cell, "cells.organisation.update", {"parent_id": tree.tccs.pk}),
    ]
    return objects


def _mixed_entries(people, tree, objects, n):
    """``n`` entries over the kinds of ``objects``, by three actors."""
    for k in range(n):
        instance, action, after = objects[k % len(objects)]
        cell_services.audit_log(
            actor=[people.secretary, people.officer, people.admin][k % 3],
            action=action,
            instance=instance,
            organisation=tree.cell,
            before=None,
            after=after,
        )


def _queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured), response


def test_a_page_of_fifty_mixed_rows_in_a_bounded_number_of_queries(
    client_for, people, tree, django_assert_max_num_queries
):
    objects = _mixed_objects(people, tree)
    AuditEntry.objects.all().delete()
    _mixed_entries(people, tree, objects, 12)
    client = client_for(people.admin)
    few, _response = _queries(client)
    AuditEntry.objects.all().delete()
    _mixed_entries(people, tree, objects, 60)
    many, response = _queries(client)
    assert len(response.context["rows"]) == 50
    assert all(row.object_url for row in response.context["rows"])
    assert many == few  # one query per kind of object, not per row
    with django_assert_max_num_queries(24):
        client.get(URL)


def test_the_filters_are_kept_across_pages_and_in_the_export(client_for, people, tree):
    for n in range(55):
        cell_services.audit_log(
            actor=people.secretary,
            action="cells.member.update",
            instance=people.members["member"],
            organisation=tree.cell,
            before={"phone": str(n)},
            after={"phone": str(n + 1)},
        )
    cell_services.audit_log(
        actor=people.admin,
        action="cells.organisation.update",
        instance=tree.cell,
        organisation=tree.cell,
        before={"name": "A"},
        after={"name": "B"},
    )
    client = client_for(people.admin)
    filters = {
        "action": "cells.member.update",
        "actor": people.secretary.pk,
        "organisation": tree.tccs.pk,
        "start": "01/01/2000",
        "end": timezone.localdate().strftime("%d/%m/%Y"),
        "object_type": "cells.member",
        "object_id": people.members["member"].pk,
    }
    first = client.get(URL, filters)
    page = first.content.decode()
    assert first.context["page"].paginator.count == 55
    next_link = re.search(r'href="\?([^"]*trang=2)"', page).group(1).replace("&amp;", "&")
    for key in filters:
        assert f"{key}=" in next_link, key
    assert len(client.get(URL + "?" + next_link).context["rows"]) == 5
    export_link = re.search(r'href="(/nhat-ky/xuat-excel/\?[^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.get(export_link)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Thời điểm", "Người thực hiện", "Tổ chức đảng", "Thao tác")
    assert len(rows) == 1 + 55 and {row[3] for row in rows[1:]} == {"Sửa hồ sơ đảng viên"}
    assert {row[1] for row in rows[1:]} == {"Trần Thị Bí Thư"}


def test_the_export_is_refused_to_those_who_cannot_read_the_log(client_for, people):
    assert client_for(people.secretary).get(EXPORT).status_code == 403
