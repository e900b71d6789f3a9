"""Sign-in: the second factor, recovery codes and sessions (issue #21)."""

import base64
import math
import secrets

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import (
    RecoveryCode,
    RecoveryCodeDevice,
    UserSession,
)
from ..selectors import second_factor_required
from .audit import audit_log

# --- sign-in: the second factor, recovery codes and sessions (issue #21) ------------------------------

RECOVERY_CODE_COUNT = 10


def _throttled_message(data) -> str:
    wait = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds())) if data else 1
    return _("Bạn đã nhập sai mã nhiều lần liên tiếp. Vui lòng đợi %(seconds)s giây rồi nhập lại.") % {"seconds": wait}


def _check_token(device, token: str) -> None:
    """Verify ``token`` on ``device`` (locked for the check), keeping django-otp's throttling of failures.

    The failure count is committed even though the caller then raises: the check runs in its own
    transaction, so a refused code still makes the next try wait.
    """
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, data = device.verify_is_allowed()
        if not allowed:
            raise_after = _throttled_message(data)
        elif device.verify_token(token):
            return
        else:
            raise_after = None
    if raise_after:
        raise ValidationError({"token": raise_after})
    raise ValidationError({"token": _("Mã không đúng hoặc đã hết hạn. Hãy nhập mã đang hiện trên ứng dụng.")})


def recovery_code_format(raw: str) -> str:
    """ABCD-EFGH-JKLM-NPQR: four groups of four, as the user writes them down."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _recovery_codes_replace(*, user) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [base64.b32encode(secrets.token_bytes(10)).decode() for _n in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(device=device, code_hash=RecoveryCode.digest(code)) for code in codes]
    )
    return [recovery_code_format(code) for code in codes]


def two_factor_enrolment_start(*, user) -> TOTPDevice:
    """The not yet confirmed TOTP device whose QR code the enrolment page shows (the same one on a reload)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Xác thực hai bước đã được bật cho tài khoản này."))
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="totp", confirmed=False)
    return device


def two_factor_enrolment_confirm(*, user, token: str) -> tuple[TOTPDevice, list[str]]:
    """Turn the second factor on with the first code the app shows; returns the device and the recovery codes.

    The codes exist in clear only in the return value: the page shows them once.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise ValidationError({"token": _("Hãy mở lại trang bật xác thực hai bước để lấy mã QR mới.")})
    _check_token(device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user=user)
        audit_log(
            actor=user,
            action="cells.two_factor.enable",
            instance=device,
            after={"user": user.pk, "recovery_codes": len(codes)},
        )
    return device, codes


def recovery_codes_regenerate(*, user) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Hãy bật xác thực hai bước trước khi tạo mã dự phòng."))
    with transaction.atomic():
        codes = _recovery_codes_replace(user=user)
        audit_log(
            actor=user, action="cells.two_factor.recovery_codes", instance=user, after={"recovery_codes": len(codes)}
        )
    return codes


def second_factor_verify(*, user, token: str):
    """The device that accepts ``token``: the authenticator app's 6 digits, or one recovery code (used up)."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        raise ValidationError({"token": _("Hãy nhập mã 6 số trên ứng dụng xác thực, hoặc một mã dự phòng.")})
    if token.isdigit():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    else:
        device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise ValidationError({"token": _("Mã không đúng hoặc đã hết hạn. Hãy nhập mã đang hiện trên ứng dụng.")})
    _check_token(device, token)
    if isinstance(device, RecoveryCodeDevice):
        audit_log(
            actor=user,
            action="cells.two_factor.recovery_code_used",
            instance=user,
            after={"recovery_codes_left": device.codes.count()},
        )
    return device


def two_factor_disable(*, user, token: str) -> None:
    """Turn the second factor off, with a current code; not for the roles that must keep it."""
    if second_factor_required(user):
        raise ValidationError(_("Vai trò của bạn bắt buộc xác thực hai bước: không thể tắt."))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    if device is None:
        raise ValidationError(_("Xác thực hai bước chưa được bật."))
    _check_token(device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        audit_log(
            actor=user,
            action="cells.two_factor.disable",
            instance=user,
            before={"two_factor": True},
            after={"two_factor": False},
        )


def user_session_record(*, user, session_key: str, user_agent: str, ip_address: str | None) -> None:
    """Note (or refresh) a signed-in session of ``user`` for the session list."""
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "user_agent": (user_agent or "")[:300],
            "ip_address": ip_address or None,
            "last_seen_at": now,
        },
        create_defaults={
            "user": user,
            "user_agent": (user_agent or "")[:300],
            "ip_address": ip_address or None,
            "created_at": now,
            "last_seen_at": now,
        },
    )


def user_session_touch(*, user, session_key: str, user_agent: str, ip_address: str | None) -> None:
    """The session was used just now: one UPDATE, or the row again if a key change (password change) lost it."""
    updated = UserSession.objects.filter(session_key=session_key, user=user).update(
        last_seen_at=timezone.now(), ip_address=ip_address or None
    )
    if not updated:
        user_session_record(user=user, session_key=session_key, user_agent=user_agent, ip_address=ip_address)


def user_sessions_end_others(*, user, keep_session_key: str) -> int:
    """ "Đăng xuất khỏi mọi nơi": end every session of ``user`` but the one in use; returns how many ended."""
    with transaction.atomic():
        others = UserSession.objects.filter(user=user).exclude(session_key=keep_session_key)
        keys = list(others.values_list("session_key", flat=True))
        ended, _count = Session.objects.filter(session_key__in=keys).delete()
        others.delete()
        audit_log(actor=user, action="cells.session.end_others", instance=user, after={"sessions_ended": ended})
    return ended
