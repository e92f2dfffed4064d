from governance.core.roles import Role, user_roles


def roles(request):
    names = user_roles(request.user)
    return {"user_role_labels": [Role(r).label for r in sorted(names)]}
