from django.utils.functional import SimpleLazyObject

from governance.approvals.selectors import approvals_awaiting


def inbox_count(request):
    """How many approval requests wait for this user's decision: the badge in the main menu,
    read only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_count": 0}
    return {"inbox_count": SimpleLazyObject(lambda: len(approvals_awaiting(user=user)))}
