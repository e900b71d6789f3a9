from .selectors import MANAGE_MEMBERS, READ_MEMBERS, roles_of


def navigation(request):
    """What the base layout's menu may show, from the user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "second_factor_pending", False):
        return {"second_factor_pending": True}  # between the password and the code: no menu
    roles = roles_of(user)
    return {
        "nav": {
            "roles": roles,
            "organisations": bool(roles & READ_MEMBERS),
            "members": bool(roles & READ_MEMBERS),
            "manage_members": bool(roles & MANAGE_MEMBERS),
            "admin": user.is_staff,
            "own_profile": hasattr(user, "member"),
        }
    }
