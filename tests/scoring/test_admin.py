"""The admin pages of the scoring app open, and an edit there raises the scheme's version with an audit row."""

import json

import pytest
from django.urls import reverse

from cells.models import AuditEntry
from scoring.models import Criterion, ScoringGroup, ScoringScheme
from tests.factories import UserFactory, pass_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    pass_second_factor(client, user)  # staff: the admin is behind the second factor
    return client


def test_admin_pages_open(superuser_client):
    scheme = ScoringScheme.objects.get(code="hd42-btctw-2025")
    group = scheme.groups.first()
    for url in [
        reverse("admin:scoring_scoringscheme_changelist"),
        reverse("admin:scoring_scoringscheme_change", args=[scheme.pk]),
        reverse("admin:scoring_scoringgroup_change", args=[group.pk]),
        reverse("admin:scoring_ratingregime_changelist"),
        reverse("admin:scoring_meetingscore_changelist"),
        reverse("admin:scoring_annualrating_changelist"),
        reverse("admin:scoring_inspection_changelist"),
    ]:
        assert superuser_client.get(url).status_code == 200, url


def test_editing_a_criterion_in_the_admin_raises_the_version(superuser_client):
    group = ScoringGroup.objects.get(scheme__code="hd42-btctw-2025", code="1")
    criterion = group.criteria.get()
    url = reverse("admin:scoring_scoringgroup_change", args=[group.pk])
    data = {
        "scheme": group.scheme_id,
        "order": group.order,
        "code": group.code,
        "name": group.name,
        "max_points": "5",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "1",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "criteria-0-id": criterion.pk,
        "criteria-0-group": group.pk,
        "criteria-0-order": "1",
        "criteria-0-code": "1.1",
        "criteria-0-max_points": "5",
        "criteria-0-kind": "choice",
        "criteria-0-name": "Thời lượng (đã sửa)",
        "criteria-0-guidance": "",
        "criteria-0-measure": "duration_shortfall",
        "criteria-0-options": json.dumps(criterion.options),
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Criterion.objects.get(pk=criterion.pk).name == "Thời lượng (đã sửa)"
    assert ScoringScheme.objects.get(code="hd42-btctw-2025").version == 2
    assert AuditEntry.objects.filter(action="scoring.scheme.edit").exists()
