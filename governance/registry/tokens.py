"""Scoped API tokens for deploy pipelines, and the DRF classes that enforce their scopes.

A pipeline token looks like ``gov_<43 url-safe characters>`` and travels as
``Authorization: Token <token>`` (what deploy/ci/gate_check.py sends). Only its sha256 is
stored. It authenticates its service account on the endpoints that list
`PipelineTokenAuthentication`, and `TokenScopePermission` lets it do exactly what its
scopes name: a ``gate:read`` token reads the gate and nothing else. Everywhere else (the
rest of the API, the pages) a pipeline token is not a credential at all.

Another feature's endpoint opts in like this::

    authentication_classes = [PipelineTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [TokenScopePermission]
    required_scope = "batches:write"
    required_action = "drift.upload"   # what a signed-in person needs instead (roles.PERMISSIONS)
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from governance.core import sql
from governance.core.access import RoleRequired
from governance.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from governance.registry.models import AISystem, PipelineToken, TokenScope

PREFIX = "gov_"
KEYWORD = "Token"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # write last_used_at at most this often, not per request
UNKNOWN_SCOPE = "scopes: unknown scope {scope!r}; accepted: {accepted}."
NO_SCOPES = "scopes: name at least one of: {accepted}."
INVALID = "Invalid or revoked pipeline token."
NO_SYSTEMS = "systems: name at least one AI system (its slug) this token may act on."
UNKNOWN_SYSTEM = "systems: no AI system {slug!r}."
NOT_BOUND = ("This pipeline token ({name}) is not bound to the AI system {system!r}; it may act on: {systems}. "
             "Create a token for that system (manage.py create_pipeline_token NAME --system {system}).")
OUT_OF_SCOPE = "This pipeline token's scopes ({scopes}) do not include {scope}, which this endpoint needs."


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def pipeline_token_create(*, name: str, scopes: list[str], systems: list) -> tuple[PipelineToken, str]:
    """Create a service account `pipeline-<name>` (no password, no role) and its token, bound to
    `systems` (AISystem rows or slugs): it acts on those and no other.

    Returns (token row, secret); the secret is never stored and cannot be shown again."""
    accepted = ", ".join(TokenScope.values)
    scopes = sorted(set(scopes))
    if not scopes:
        raise ApplicationError(NO_SCOPES.format(accepted=accepted), field="scopes")
    for scope in scopes:
        if scope not in TokenScope.values:
            raise ApplicationError(UNKNOWN_SCOPE.format(scope=scope, accepted=accepted), field="scopes")
    if not name or len(name) > 100 or not name.replace("-", "").replace("_", "").isalnum():
        raise ApplicationError("name: use letters, digits, '-' and '_' (at most 100).", field="name")
    bound = _systems(systems)
    if PipelineToken.objects.filter(name=name).exists():
        raise ConflictError(f"name: a pipeline token named {name!r} already exists.", field="name")
    key = PREFIX + secrets.token_urlsafe(32)
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=f"pipeline-{name}", defaults={"first_name": "Pipeline"})
        if created:
            user.set_unusable_password()  # a service account never signs in to the pages
            user.save(update_fields=["password"])
        token = PipelineToken(name=name, user=user, scopes=scopes, key_hash=_hash(key), prefix=key[:12])
        token.full_clean()
        token.save()
        token.systems.set(bound)
    return token, key


def _systems(systems) -> list[AISystem]:
    bound = []
    for item in systems or []:
        if isinstance(item, AISystem):
            bound.append(item)
            continue
        system = AISystem.objects.filter(slug=item).first()
        if system is None:
            raise ApplicationError(UNKNOWN_SYSTEM.format(slug=item), field="systems")
        bound.append(system)
    if not bound:
        raise ApplicationError(NO_SYSTEMS, field="systems")
    return bound


def token_system_slugs(token: PipelineToken) -> list[str]:
    return sorted(PipelineToken.systems.through.objects.filter(pipelinetoken_id=token.pk)
                  .values_list("aisystem__slug", flat=True))


def token_require_system(token, system: AISystem) -> None:
    """A pipeline token acts only on the systems it is bound to: 403 naming them otherwise.
    Anything that is not a pipeline token (a person) passes; their role is checked elsewhere."""
    if not isinstance(token, PipelineToken):
        return
    if PipelineToken.systems.through.objects.filter(pipelinetoken_id=token.pk, aisystem_id=system.pk).exists():
        return
    raise PermissionDeniedError(NOT_BOUND.format(name=token.name, system=system.slug,
                                                 systems=", ".join(token_system_slugs(token)) or "none"))


def pipeline_token_revoke(*, token: PipelineToken) -> None:
    PipelineToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@sql.cached_sql
def _token_sql() -> str:
    User = get_user_model()
    token, user = sql.table(PipelineToken), sql.table(User)
    return (f"SELECT {sql.columns(PipelineToken, ['id', 'name', 'scopes', 'last_used_at', 'user'])}, "
            f"{sql.columns(User, ['username'])} "
            f"FROM {token} JOIN {user} ON {user}.id = {token}.user_id "
            f"WHERE {token}.key_hash = %s AND {token}.revoked_at IS NULL AND {user}.is_active = %s")


def token_with_user(key_hash: str):
    """(PipelineToken, user) for an unrevoked token of an active user, or None: one plain
    statement (governance/core/sql.py), because it runs on every gate call."""
    User = get_user_model()
    rows = sql.rows(_token_sql(), [key_hash, True])
    if not rows:
        return None
    pk, name, scopes, last_used, user_id, username = rows[0]
    user = User(id=user_id, username=username, is_active=True)
    user._state.adding = False
    token = PipelineToken(id=pk, name=name, scopes=sql.as_json(scopes), last_used_at=sql.as_datetime(last_used),
                          user=user)
    token._state.adding = False
    return token, user


class PipelineTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token gov_...`. Other tokens are left to the next authentication class."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode("latin-1") != KEYWORD:
            return None
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not key.startswith(PREFIX):
            return None
        found = token_with_user(_hash(key))
        if found is None:
            raise exceptions.AuthenticationFailed(INVALID)
        token, user = found
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            PipelineToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request):
        return KEYWORD


def token_has_scope(token, scope: str) -> bool:
    return isinstance(token, PipelineToken) and scope in token.scopes


class TokenScopePermission(RoleRequired):
    """A pipeline token needs the view's `required_scope`; anyone else needs to be signed in
    and hold a role (RoleRequired; the view or its service checks what the role allows)."""

    def has_permission(self, request, view):
        if isinstance(request.auth, PipelineToken):
            scope = getattr(view, "required_scope")
            if token_has_scope(request.auth, scope):
                return True
            raise exceptions.PermissionDenied(
                OUT_OF_SCOPE.format(scopes=", ".join(request.auth.scopes) or "none", scope=scope)
            )
        return super().has_permission(request, view)


def pipeline_actor(request) -> str | None:
    """The trail's actor for a pipeline request: "pipeline:<name>"; None for a person."""
    return f"pipeline:{request.auth.name}" if isinstance(request.auth, PipelineToken) else None
