import datetime

import factory
from django.contrib.auth import get_user_model

from cells import services
from cells.models import Member, Organisation, RoleAssignment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("matkhau-123")


def make_organisation(*, parent=None, kind=Organisation.Kind.CHI_BO, name="Chi bộ", **fields):
    """Organisations go through the service so that paths are computed as in production."""
    return services.organisation_create(parent=parent, kind=kind, name=name, **fields)


_member_counter = iter(range(1, 10**9))


def make_member(*, organisation, full_name=None, status=Member.Status.OFFICIAL, **fields):
    n = next(_member_counter)
    defaults = {
        "full_name": full_name or f"Nguyễn Văn {n}",
        "party_card_number": f"TD{n:08d}",
        "date_of_birth": datetime.date(1980, 1, 1),
        "admission_decision_date": datetime.date(2005, 5, 19),
        "status": status,
    }
    if status == Member.Status.OFFICIAL:
        defaults["full_membership_date"] = datetime.date(2006, 5, 19)
    defaults.update(fields)
    return services.member_create(organisation=organisation, joined_on=datetime.date(2020, 1, 1), **defaults)


def grant(user, organisation, role):
    return RoleAssignment.objects.create(user=user, organisation=organisation, role=role,
                                         start=datetime.date(2020, 1, 1))
