"""Required documents: upload checked by content, the cell's checklist and the table over a subtree."""

import datetime
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells import selectors, services
from cells.models import AuditEntry, CellDocument, RequiredDocumentType, Term

pytestmark = pytest.mark.django_db

D = datetime.date
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def pdf(name="nghi-quyet.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def docx(name="chuong-trinh.docx"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return SimpleUploadedFile(name, buffer.getvalue())


def doc_type(code):
    return RequiredDocumentType.objects.get(code=code)


def upload(cell, code, *, year=2026, term=None, file=None, by=None):
    return services.cell_document_upload(
        organisation=cell,
        document_type=doc_type(code),
        year=year,
        term=term,
        file=file or pdf(),
        adopted_on=D(2026, 1, 15),
        by=by,
    )


def test_the_catalogue_is_seeded_with_five_term_and_five_year_documents():
    periods = list(RequiredDocumentType.objects.values_list("period", flat=True))
    assert periods.count("term") == 5 and periods.count("year") == 5
    assert RequiredDocumentType.objects.filter(name__contains="Chỉ thị 05-CT/TW").exists()


def test_upload_a_yearly_document_and_replace_it(tree, people):
    first = upload(tree.cell, "ctr-cong-tac-nam", by=people.secretary)
    assert first.content_type == "application/pdf" and first.original_name == "nghi-quyet.pdf"
    second = upload(tree.cell, "ctr-cong-tac-nam", file=docx(), by=people.secretary)
    assert second.pk == first.pk and CellDocument.objects.count() == 1
    assert second.content_type.endswith("wordprocessingml.document")
    entries = AuditEntry.objects.filter(action="cells.document.upload")
    assert entries.count() == 2 and entries.first().before["original_name"] == "nghi-quyet.pdf"


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (pdf("bien-ban.pdf", PNG), "không đúng với tên tệp"),
        (pdf("bien-ban.pdf", b"just some text, not a PDF"), "Chỉ nhận tệp PDF"),
        (SimpleUploadedFile("virus.exe", b"MZ\x90\x00" + b"\x00" * 60), "Chỉ nhận tệp PDF"),
        (pdf("lon.pdf", PDF + b"0" * (10 * 1024 * 1024)), "10 MB"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused(tree, people, file, message):
    with pytest.raises(ValidationError) as error:
        upload(tree.cell, "ctr-cong-tac-nam", file=file, by=people.secretary)
    assert message in error.value.message_dict["file"][0]
    assert not CellDocument.objects.exists()


def test_term_document_needs_a_term_of_the_cell(tree, people):
    foreign_term = Term.objects.create(organisation=tree.sibling, name="2025–2030", start=D(2025, 7, 1))
    with pytest.raises(ValidationError) as error:
        upload(tree.cell, "quy-che-lam-viec", year=None, term=foreign_term)
    assert "term" in error.value.message_dict
    term = Term.objects.create(organisation=tree.cell, name="2025–2030", start=D(2025, 7, 1))
    document = upload(tree.cell, "quy-che-lam-viec", year=2026, term=term)
    assert document.term == term and document.year is None


def test_cell_checklist_shows_done_and_missing(tree, people, client_for):
    term = Term.objects.create(organisation=tree.cell, name="2025–2030", start=D(2025, 7, 1))
    upload(tree.cell, "quy-che-lam-viec", year=None, term=term)
    upload(tree.cell, "kh-chi-thi-05", year=2026)
    upload(tree.cell, "ctr-cong-tac-nam", year=2025)
    types = {t.code: t for t in selectors.required_documents_of_cell(cell=tree.cell, year=2026, on=D(2026, 6, 1))}
    assert {code for code, t in types.items() if t.document_id} == {"quy-che-lam-viec", "kh-chi-thi-05"}
    assert types["kh-chi-thi-05"].adopted_on == D(2026, 1, 15)
    page = client_for(people.secretary).get(reverse("books:books_cell_documents", args=[tree.cell.pk]), {"nam": "2026"})
    html = page.content.decode()
    assert html.count("Đã có") == 2 and html.count("Còn thiếu") == 8


def test_documents_table_over_a_subtree(tree, people, django_assert_max_num_queries):
    term = Term.objects.create(organisation=tree.cell, name="2025–2030", start=D(2025, 7, 1))
    old_term = Term.objects.create(organisation=tree.sibling, name="2020–2025", start=D(2020, 7, 1), end=D(2025, 6, 30))
    upload(tree.cell, "quy-che-lam-viec", year=None, term=term)
    upload(tree.cell, "ctr-cong-tac-nam")
    upload(tree.cell, "kh-nq-tw4")
    upload(tree.sibling, "ctr-cong-tac-nam")
    upload(tree.sibling, "quy-che-lam-viec", year=None, term=old_term)  # a past term: not counted
    upload(tree.sibling, "kh-nq-tw4", year=2025)  # another year: not counted
    upload(tree.other, "ctr-cong-tac-nam")  # outside the subtree
    with django_assert_max_num_queries(3):
        types, cells, totals = selectors.documents_table(organisation=tree.tccs, year=2026, on=D(2026, 6, 1))
        cells = list(cells)
    codes = {t.pk: t.code for t in types}
    assert [c.name for c in cells] == ["Chi bộ Văn phòng", "Chi bộ Kế toán"]
    assert {codes[pk]: n for pk, n in totals.items()} == {"quy-che-lam-viec": 1, "ctr-cong-tac-nam": 2, "kh-nq-tw4": 1}
    flags = {c.name: {codes[t.pk] for t in types if getattr(c, f"doc_{t.pk}")} for c in cells}
    assert flags == {
        "Chi bộ Văn phòng": {"quy-che-lam-viec", "ctr-cong-tac-nam", "kh-nq-tw4"},
        "Chi bộ Kế toán": {"ctr-cong-tac-nam"},
    }


def test_documents_table_page_for_the_officer(tree, people, client_for):
    upload(tree.sibling, "ctr-cong-tac-nam")
    response = client_for(people.officer).get(
        reverse("books:books_documents_table", args=[tree.tccs.pk]), {"nam": "2026"}
    )
    assert response.status_code == 200
    assert response.context["cell_count"] == 2 and 1 in response.context["totals"]


def test_upload_through_the_form_and_download(tree, people, client_for):
    client = client_for(people.secretary)
    url = reverse("books:books_document_upload", args=[tree.cell.pk, doc_type("ctr-ktgs-nam").pk])
    response = client.post(url, {"year": "2026", "adopted_on": "10/01/2026", "file": pdf()})
    assert response.status_code == 302
    document = CellDocument.objects.get()
    download = client.get(reverse("books:books_document_download", args=[document.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert (
        client_for(people.other_secretary).get(reverse("books:books_document_download", args=[document.pk])).status_code
        == 404
    )


def test_bad_upload_through_the_form_shows_the_error_at_the_file(tree, people, client_for):
    url = reverse("books:books_document_upload", args=[tree.cell.pk, doc_type("ctr-ktgs-nam").pk])
    response = client_for(people.secretary).post(
        url, {"year": "2026", "adopted_on": "10/01/2026", "file": pdf("ke-hoach.pdf", PNG)}
    )
    assert response.status_code == 200
    assert "không đúng với tên tệp" in response.context["form"].errors["file"][0]
    assert not CellDocument.objects.exists()
