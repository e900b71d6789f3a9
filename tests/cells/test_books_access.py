"""The four access cases for every view of the cell's books: allowed, anonymous, other tenant, read-only."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells import services
from cells.models import RequiredDocumentType

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(tree, people):
    document = services.cell_document_upload(
        organisation=tree.cell,
        document_type=RequiredDocumentType.objects.get(code="ctr-cong-tac-nam"),
        year=2026,
        file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
        adopted_on=datetime.date(2026, 1, 5),
    )
    return {
        "cell": tree.cell.pk,
        "tccs": tree.tccs.pk,
        "member": people.members["member"].pk,
        "document": document.pk,
        "type": document.document_type_id,
    }


def url(name, objects, *keys):
    return reverse(name, args=[objects[k] for k in keys])


# name, argument keys, the user allowed, the reader who may not write (None for read views)
READ_VIEWS = [
    ("books:books_cell", ("cell",), "secretary"),
    ("books:books_dues_ledger", ("cell",), "clerk"),
    ("books:books_dues_pdf", ("cell",), "viewer"),
    ("books:books_dues_xlsx", ("cell",), "officer"),
    ("books:books_cell_documents", ("cell",), "clerk"),
    ("books:books_commitments", ("cell",), "viewer"),
    ("books:books_lifecycle", ("cell",), "secretary"),
    ("books:books_dues_arrears", ("tccs",), "officer"),
    ("books:books_documents_table", ("tccs",), "viewer"),
    ("books:books_member_dues", ("member",), "member"),
    ("books:books_document_download", ("document",), "clerk"),
]
WRITE_VIEWS = [
    ("books:books_dues_record", ("cell",), "secretary", "clerk"),
    ("books:books_dues_relief", ("member",), "secretary", "viewer"),
    ("books:books_document_upload", ("cell", "type"), "secretary", "clerk"),
    ("books:books_commitment_paper", ("cell", "member"), "secretary", "viewer"),
    ("books:books_member_admission", ("member",), "officer", "secretary"),
    ("books:books_member_full_membership", ("member",), "officer", "secretary"),
    ("books:books_member_exemption_end", ("member",), "officer", "clerk"),
    ("books:books_member_suspension", ("member",), "admin", "secretary"),
]
ALL = [(name, keys) for name, keys, *_ in READ_VIEWS + WRITE_VIEWS] + [
    ("books:books_dues_open", ("cell",)),
    ("books:books_index", ()),
    ("books:books_commitment_mine", ()),
]


@pytest.mark.parametrize(("name", "keys"), ALL)
def test_anonymous_is_sent_to_login(client, objects, name, keys):
    response = client.get(url(name, objects, *keys))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "keys", "allowed"), [v[:3] for v in READ_VIEWS + WRITE_VIEWS])
def test_allowed_user_opens_the_page(client_for, people, objects, name, keys, allowed):
    assert client_for(getattr(people, allowed)).get(url(name, objects, *keys)).status_code == 200


@pytest.mark.parametrize(("name", "keys"), ALL[:-2])
def test_secretary_of_another_cell_gets_404(client_for, people, objects, name, keys):
    client = client_for(people.other_secretary)
    assert client.get(url(name, objects, *keys)).status_code in (404, 405)
    assert client.post(url(name, objects, *keys), {}).status_code == 404


@pytest.mark.parametrize(("name", "keys", "reader"), [(v[0], v[1], v[3]) for v in WRITE_VIEWS])
def test_read_only_user_gets_403_on_writes(client_for, people, objects, name, keys, reader):
    client = client_for(getattr(people, reader))
    assert client.get(url(name, objects, *keys)).status_code == 403
    assert client.post(url(name, objects, *keys), {}).status_code == 403


@pytest.mark.parametrize("reader", ["clerk", "viewer"])
def test_read_only_user_gets_403_opening_a_month(client_for, people, objects, reader):
    assert client_for(getattr(people, reader)).post(url("books:books_dues_open", objects, "cell")).status_code == 403


def test_opening_a_month_is_post_only(client_for, people, objects):
    assert client_for(people.secretary).get(url("books:books_dues_open", objects, "cell")).status_code == 405


def test_a_cell_books_url_for_a_non_cell_is_404(client_for, people, tree):
    assert client_for(people.officer).get(reverse("books:books_dues_ledger", args=[tree.tccs.pk])).status_code == 404


def test_member_reads_own_dues_but_not_the_cell_books(client_for, people, objects):
    client = client_for(people.member)
    assert client.get(url("books:books_member_dues", objects, "member")).status_code == 200
    assert client.get(url("books:books_dues_ledger", objects, "cell")).status_code == 404
    assert client.get(url("books:books_document_download", objects, "document")).status_code == 404


def test_books_index_sends_each_user_to_their_books(client_for, people, tree):
    expected = {
        "secretary": reverse("books:books_cell", args=[tree.cell.pk]),
        "officer": reverse("books:books_documents_table", args=[tree.tccs.pk]),
        "admin": reverse("books:books_documents_table", args=[tree.khoi.pk]),
        "member": reverse("books:books_member_dues", args=[people.members["member"].pk]),
    }
    for user, target in expected.items():
        response = client_for(getattr(people, user)).get(reverse("books:books_index"))
        assert (response.status_code, response.url) == (302, target), user


def test_books_index_without_any_role_is_403(client_for, db):
    assert client_for(UserFactory(username="nobody")).get(reverse("books:books_index")).status_code == 403


@pytest.mark.parametrize(
    "model",
    [
        "requireddocumenttype",
        "duesraterule",
        "duespayment",
        "duesrelief",
        "duesremittance",
        "cellfundentry",
        "celldocument",
        "membercommitment",
    ],
)
def test_admin_lists_the_books(client_for, objects, model):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert client_for(admin).get(reverse(f"admin:cells_{model}_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("books:books_cell", ("cell",)),
        ("books:books_dues_ledger", ("cell",)),
        ("books:books_cell_documents", ("cell",)),
        ("books:books_commitments", ("cell",)),
        ("books:books_lifecycle", ("cell",)),
        ("books:books_documents_table", ("tccs",)),
        ("books:books_dues_arrears", ("tccs",)),
        ("books:books_member_dues", ("member",)),
    ],
)
def test_book_pages_make_a_bounded_number_of_queries(
    client_for, people, tree, objects, name, keys, django_assert_max_num_queries
):
    from cells.dues import dues_payments_bulk_create
    from cells.models import Member

    from ..factories import make_member

    for n in range(15):
        make_member(organisation=tree.cell if n % 2 else tree.sibling, dues_base=5_000_000)
    months = [datetime.date(2026, m, 1) for m in range(1, 12)]
    dues_payments_bulk_create(members=Member.objects.all(), months=months, paid_share=0.6)
    client = client_for(people.admin)
    # The dues book also reads the month's balance (three grouped sums), its remittances and fund lines.
    with django_assert_max_num_queries(19 if name == "books:books_dues_ledger" else 14):
        assert client.get(url(name, objects, *keys)).status_code == 200
