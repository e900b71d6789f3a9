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
    return RoleAssignment.objects.create(
        user=user, organisation=organisation, role=role, start=datetime.date(2020, 1, 1)
    )


def totp_device(user):
    """The user's confirmed authenticator app (django-otp TOTP device), made once."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="totp", confirmed=True)


def totp_code(device) -> str:
    """The 6 digits the user's app shows now (the clock that time_machine sets)."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def pass_second_factor(client, user):
    """Mark the test client's session as having passed the second factor with the user's app, as
    ``django_otp.login(request, device)`` does after a right code (the code page itself has its own tests)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client
