"""The member list's filters: a TCCS first, then one of its cells; a bounded number of queries."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cells.models import Exemption, Organisation

from ..factories import make_member, make_organisation


def _names(response) -> set[str]:
    return {member.full_name for member in response.context["page"].object_list}


def test_khoi_user_chooses_a_tccs_then_one_of_its_cells(client_for, people, tree):
    client = client_for(people.admin)
    form = client.get(reverse("cells:member_list")).context["form"]
    assert [label for _pk, label in form.fields["tccs"].choices] == [
        "Tất cả",
        "Đảng bộ Sở Tài chính",
        "Chi bộ Công ty Điện lực",
    ]
    assert form.fields["cell"].choices == [("", "Chọn đảng bộ cơ sở trước")]

    response = client.get(reverse("cells:member_list"), {"tccs": tree.tccs.pk})
    assert response.context["form"].fields["cell"].choices == [
        ("", "Tất cả chi bộ"),
        (tree.cell.pk, "Chi bộ Văn phòng"),
        (tree.sibling.pk, "Chi bộ Kế toán"),
    ]
    assert _names(response) == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên", "Phạm Văn Kế Toán"}
    response = client.get(reverse("cells:member_list"), {"tccs": tree.tccs.pk, "cell": tree.sibling.pk})
    assert _names(response) == {"Phạm Văn Kế Toán"}


def test_a_cell_without_its_tccs_brings_the_tccs_and_a_cell_of_another_tccs_is_dropped(client_for, people, tree):
    client = client_for(people.admin)
    response = client.get(reverse("cells:member_list"), {"cell": tree.sibling.pk})  # a link from before the TCCS filter
    assert response.context["form"]["tccs"].value() == str(tree.tccs.pk)
    assert _names(response) == {"Phạm Văn Kế Toán"}
    # The TCCS was changed after a cell was chosen: the new TCCS wins, the old cell is forgotten.
    response = client.get(reverse("cells:member_list"), {"tccs": tree.other.pk, "cell": tree.sibling.pk})
    assert response.context["form"]["cell"].value() == ""
    assert _names(response) == {"Hoàng Thị Điện Lực"}


def test_officer_and_secretary_choose_among_their_own_cells_only(client_for, people, tree):
    form = client_for(people.officer).get(reverse("cells:member_list")).context["form"]
    assert "tccs" not in form.fields
    assert form.fields["cell"].choices == [
        ("", "Tất cả chi bộ"),
        (tree.cell.pk, "Chi bộ Văn phòng"),
        (tree.sibling.pk, "Chi bộ Kế toán"),
    ]
    form = client_for(people.secretary).get(reverse("cells:member_list")).context["form"]
    assert "tccs" not in form.fields and form.fields["cell"].choices == [
        ("", "Tất cả chi bộ"),
        (tree.cell.pk, "Chi bộ Văn phòng"),
    ]
    # A cell the secretary does not see is ignored, not shown.
    response = client_for(people.secretary).get(reverse("cells:member_list"), {"cell": tree.other.pk})
    assert _names(response) == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên"}


def test_exempt_badge_and_filter(client_for, people, tree):
    today = datetime.date.today()
    exempt = people.members["member"]
    Exemption.objects.create(member=exempt, reason="Tuổi cao", start=today - datetime.timedelta(days=30))
    Exemption.objects.create(
        member=people.members["secretary"],
        reason="Đã hết",
        start=today - datetime.timedelta(days=60),
        end=today - datetime.timedelta(days=1),
    )
    client = client_for(people.secretary)
    response = client.get(reverse("cells:member_list"))
    badges = {m.full_name: m.is_exempt for m in response.context["page"].object_list}
    assert badges == {"Trần Thị Bí Thư": False, "Lê Văn Đảng Viên": True}
    assert response.content.decode().count("Miễn SH") == 1
    assert _names(client.get(reverse("cells:member_list"), {"exempt": "yes"})) == {"Lê Văn Đảng Viên"}
    assert _names(client.get(reverse("cells:member_list"), {"exempt": "no"})) == {"Trần Thị Bí Thư"}


def test_queries_do_not_grow_with_cells_or_members(client_for, people, tree):
    client = client_for(people.admin)

    def queries(params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("cells:member_list"), params).status_code == 200
        return len(captured)

    cases = [{}, {"tccs": tree.tccs.pk}, {"cell": tree.sibling.pk}, {"q": "Nguyễn", "exempt": "no"}]
    before = [queries(params) for params in cases]
    for index in range(12):
        cell = make_organisation(parent=tree.tccs, kind=Organisation.Kind.CHI_BO, name=f"Chi bộ thêm {index}")
        for _number in range(5):
            Exemption.objects.create(
                member=make_member(organisation=cell), reason="Ốm", start=datetime.date(2020, 1, 1)
            )
    make_organisation(parent=tree.khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ cơ sở thêm")
    assert [queries(params) for params in cases] == before


def test_own_record_outside_the_scope_stays_visible(client_for, people, tree):
    """The secretary of one cell whose own member record is in another cell (the union of both halves)."""
    own = make_member(organisation=tree.sibling, full_name="Bí Thư Nơi Khác")
    own.user = people.other_secretary
    own.save(update_fields=["user"])
    client = client_for(people.other_secretary)
    assert _names(client.get(reverse("cells:member_list"))) == {"Hoàng Thị Điện Lực", "Bí Thư Nơi Khác"}
    assert client.get(reverse("cells:member_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("cells:member_detail", args=[people.members["sibling"].pk])).status_code == 404
