"""Report kinds (reports.kinds): a second tracked report is one more entry, run through the same task and pages."""

import pytest
from django import forms
from django.urls import reverse

from cells.models import AuditEntry
from reports import kinds
from reports.models import ReportRun


class TinyForm(forms.Form):
    month = forms.TypedChoiceField(label="Tháng", coerce=int, choices=[(m, str(m)) for m in range(1, 13)])


def build_tiny(*, scope, params, today=None, progress=None):
    progress(50)
    return {"xlsx": f"PK {scope.name} {params['month']}".encode()}


@pytest.fixture
def tiny(monkeypatch):
    registry = dict(kinds._KINDS)
    monkeypatch.setattr(kinds, "_KINDS", registry)
    return kinds.register(
        kinds.ReportKind(
            code="tiny",
            label="Báo cáo nhỏ",
            form=TinyForm,
            build=build_tiny,
            file_name="bao-cao-nho-{month}-{organisation}.{ext}",
            stored_name="bao-cao-nho-{month}",
        )
    )


def test_the_annual_report_is_one_entry():
    annual = kinds.kind_of(kinds.ANNUAL_TARGETS)
    assert [kind.code for kind in kinds.all_kinds()] == [kinds.ANNUAL_TARGETS]
    assert kinds.choices() == [("annual_targets", "Báo cáo kết quả thực hiện chỉ tiêu năm")]
    assert annual.title == "Báo cáo chỉ tiêu năm"


def test_a_second_kind_registered_here_runs_end_to_end(tiny, client_for, khoi, django_capture_on_commit_callbacks):
    client = client_for(khoi.users["admin"])
    url = reverse("reports:runs_of_kind", args=[khoi.khoi.pk, "tiny"])
    page = client.get(url).content.decode()
    assert "Báo cáo nhỏ" in page and 'name="month"' in page
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly in the tests
        response = client.post(url, {"month": 3})
    assert response.status_code == 302 and response.url == url
    run = ReportRun.objects.get()
    assert (run.kind, run.status, run.progress, run.params) == ("tiny", "done", 100, {"month": 3})
    assert run.get_kind_display() == "Báo cáo nhỏ"
    assert not run.pdf and run.xlsx.name.endswith(".xlsx")
    assert AuditEntry.objects.filter(action="reports.reportrun.create", object_id=str(run.pk)).exists()
    # Its runs page lists it; the annual report's does not.
    assert reverse("reports:run_download", args=[run.pk, "xlsx"]) in client.get(url).content.decode()
    assert (
        reverse("reports:run_download", args=[run.pk, "xlsx"])
        not in client.get(reverse("reports:runs", args=[khoi.khoi.pk])).content.decode()
    )
    download = client.get(reverse("reports:run_download", args=[run.pk, "xlsx"]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == f"PK {khoi.khoi.name} 3".encode()
    assert f'filename="bao-cao-nho-3-{khoi.khoi.pk}.xlsx"' in download["Content-Disposition"]
    assert client.get(reverse("reports:run_download", args=[run.pk, "pdf"])).status_code == 404
    # The status row and "Lập lại" go through the same pages.
    assert client.get(reverse("reports:run_status", args=[run.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:run_restart", args=[run.pk]))
    assert response.url == url
    run.refresh_from_db()
    assert run.status == "done"


def test_a_kind_with_no_entry_is_not_found(client_for, khoi):
    response = client_for(khoi.users["admin"]).get(reverse("reports:runs_of_kind", args=[khoi.khoi.pk, "nothing"]))
    assert response.status_code == 404
