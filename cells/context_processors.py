from .permissions import permissions_of, roles_of


def navigation(request):
    """What the base layout's menu may show, from the user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "second_factor_pending", False):
        return {"second_factor_pending": True}  # between the password and the code: no menu
    can = permissions_of(user)  # the permission table (cells/permissions.py), never role names here
    return {
        "nav": {
            "roles": roles_of(user),
            "can": can,
            "organisations": can["members_read"],
            "members": can["members_read"],
            "manage_members": can["members_manage"],
            "admin": user.is_staff,
            "own_profile": hasattr(user, "member"),
        }
    }
