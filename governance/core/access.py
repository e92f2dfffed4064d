"""The one gate every read passes: a signed-in person with no role reads nothing.

`roles.PERMISSIONS` says what each role may do; this module makes sure nobody without any of
those roles gets as far as a view. Pages use `role_required` (in place of `login_required`),
the API uses `RoleRequired` (the REST framework's default permission class, see settings), so
a new page or endpoint is guarded unless it opts out by name (the public ones: login, health,
the gate's public key, the API's schema and docs pages).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from rest_framework import exceptions, permissions

from governance.core.roles import Role, user_roles

NO_ROLE = ("You are signed in as {user}, but you hold no role here yet, so there is nothing you may read. "
           "Ask {whom} to give you one.")
NOBODY = "an administrator of this installation"


def has_role(user) -> bool:
    return bool(user_roles(user))


def administrators() -> list[str]:
    """Whom a person with no role asks: the active administrators, by name."""
    User = get_user_model()
    people = User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN.value), is_active=True)
    return sorted({u.get_full_name() or u.get_username() for u in people.distinct()})


def no_role_message(user) -> str:
    names = administrators()
    return NO_ROLE.format(user=user.get_username(), whom=", ".join(names) + " (administrator)" if names else NOBODY)


def role_required(view):
    """`login_required`, then a 403 page that says the person holds no role and whom to ask."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not has_role(request.user):
            return render(request, "core/no_role.html", {"message": no_role_message(request.user),
                                                         "administrators": administrators()}, status=403)
        return view(request, *args, **kwargs)

    return guarded


class RoleRequired(permissions.BasePermission):
    """Signed in (401 otherwise) and holding at least one role (403 that says so otherwise).

    What the role then allows is the view's or its service's `require(...)`; this class only
    makes sure that a person without any role never reaches it."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not has_role(user):
            raise exceptions.PermissionDenied(no_role_message(user))
        return True
