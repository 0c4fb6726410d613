"""The audit tag grammar: ``source:subject:action`` (warehouse-style), as a StrEnum."""

from __future__ import annotations

import enum
import re

# Two or more colon-separated parts of lower-case letters and underscores.
TAG_PATTERN = re.compile(r"[a-z_]+(?::[a-z_]+)+")


class Tag(enum.StrEnum):
    """Tags known to the audit app; other apps may record any string that matches TAG_PATTERN."""

    CATALOG_LOAD = "catalog:load"
    USER_CREATE = "user:create"
    USER_LOGIN = "user:login"
    USER_LOGIN_FAILED = "user:login_failed"
    USER_LOGOUT = "user:logout"
    USER_ROLE_ADD = "user:role:add"
    USER_ROLE_REMOVE = "user:role:remove"
    USER_PASSWORD_CHANGE = "user:password:change"  # noqa: S105 - a tag, not a password
    USER_TOTP_ENROL = "user:totp:enrol"
    UNIT_CREATE = "unit:create"
    UNIT_UPDATE = "unit:update"
    PARTICIPANT_CREATE = "participant:create"
    PARTICIPANT_UPDATE = "participant:update"
    EMPLOYMENT_CREATE = "employment:create"
    EMPLOYMENT_UPDATE = "employment:update"
    DEMO_SEED = "demo:seed"
    AUDIT_VERIFY = "audit:verify"


def is_valid_tag(tag: object) -> bool:
    return isinstance(tag, str) and TAG_PATTERN.fullmatch(tag) is not None


def validate_tag(tag: str) -> str:
    """Return the tag as a plain str, or raise ValueError when it breaks the grammar."""
    if not is_valid_tag(tag):
        raise ValueError(
            f"audit tag {tag!r} does not match source:subject:action ({TAG_PATTERN.pattern})"
        )
    return str(tag)
