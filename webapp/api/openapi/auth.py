"""Signing up, in and out: the CSRF token, the user, and the /csrf and /auth paths."""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import (
    ANYONE,
    SIGNED_IN,
    UNSAFE,
    UNSAFE_ANYONE,
    UNSAFE_SIGNED_IN,
    operation,
)
from webapp.api.openapi.primitives import INTEGER, STRING, Schema, enum_of, obj, ref
from webapp.models import Role
from webapp.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

SCHEMAS: dict[str, Schema] = {
    "CsrfToken": obj({"csrf_token": STRING}),
    "User": obj({"id": INTEGER, "email": STRING, "display_name": STRING, "role": enum_of(Role)}),
    "Registration": obj(
        {
            "email": {"type": "string", "format": "email"},
            "password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
            "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
        }
    ),
    "Credentials": obj({"email": STRING, "password": STRING}),
    "PasswordChange": obj(
        {
            "current_password": STRING,
            "new_password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
        }
    ),
    # Issue 21: the reader's own account by mail.
    "PasswordResetRequest": obj({"email": STRING}),
    "PasswordReset": obj(
        {
            "token": STRING,
            "new_password": {
                "type": "string",
                "minLength": MIN_PASSWORD_LENGTH,
                "maxLength": MAX_PASSWORD_LENGTH,
            },
        }
    ),
    "LinkToken": obj({"token": STRING}),
    "AccountChanges": obj({"display_name": {"type": "string", "minLength": 1, "maxLength": 80}}),
    "AddressChange": obj({"email": STRING, "password": STRING}),
    "AccountDeletion": obj({"password": STRING, "keep_comments": {"type": "boolean"}}),
    "AccountExport": obj(
        {
            "account": {"type": "object"},
            "comments": {"type": "array", "items": {"type": "object"}},
            "votes": {"type": "array", "items": {"type": "object"}},
            "reactions": {"type": "array", "items": {"type": "object"}},
            "reports": {"type": "array", "items": {"type": "object"}},
        }
    ),
}

_LINK_ERRORS = (
    "422 `link_expired` (older than the setting allows) or `link_invalid` (not one of "
    "ours, or already used), with `fields.token`."
)

PATHS: dict[str, Any] = {
    "/csrf": {
        "get": operation(
            "csrf_token",
            "The CSRF token, bound to the session cookie it sets",
            "auth",
            {200: ref("CsrfToken")},
            [],
            security=ANYONE,
        )
    },
    "/auth/register": {
        "post": operation(
            "register",
            "Create a reader account and sign in",
            "auth",
            {201: ref("User")},
            [*UNSAFE, 409, 422],
            security=UNSAFE_ANYONE,
            body="Registration",
            description="409 `email_taken`, or `already_signed_in` when the caller is "
            "signed in (sign out first: registering never switches accounts); 422 for a "
            f"password under {MIN_PASSWORD_LENGTH} characters or a bad email.",
        )
    },
    "/auth/login": {
        "post": operation(
            "login",
            "Sign in",
            "auth",
            {200: ref("User")},
            [*UNSAFE, 401],
            security=UNSAFE_ANYONE,
            body="Credentials",
            description="401 `invalid_credentials`, the same for an unknown email and a "
            "wrong password.",
        )
    },
    "/auth/logout": {
        "post": operation(
            "logout",
            "Sign out",
            "auth",
            {204: None},
            [*UNSAFE, 401],
            security=UNSAFE_SIGNED_IN,
            description="Ends the session for good: a copy of its session or remember-me "
            "cookie no longer signs in. Every other session of this user ends too.",
        )
    },
    "/auth/sessions/revoke": {
        "post": operation(
            "revoke_sessions",
            "Sign out everywhere",
            "auth",
            {204: None},
            [*UNSAFE, 401],
            security=UNSAFE_SIGNED_IN,
            description="Ends every session of this user on every device, this one included.",
        )
    },
    "/auth/password": {
        "post": operation(
            "change_password",
            "Change the password",
            "auth",
            {204: None},
            [*UNSAFE, 401, 422],
            security=UNSAFE_SIGNED_IN,
            body="PasswordChange",
            description="Every other session of this user ends; this one stays signed "
            "in (with a new session cookie, and a new remember-me cookie if it had one). "
            "403 `wrong_password` for a wrong current password; 422 for a new password "
            f"under {MIN_PASSWORD_LENGTH} characters (`fields.new_password`).",
        )
    },
    "/auth/me": {
        "get": operation(
            "me",
            "The signed-in user",
            "auth",
            {200: ref("User")},
            [401],
            security=ANYONE,
        )
    },
    "/auth/password-reset": {
        "post": operation(
            "request_password_reset",
            "Mail a password reset link",
            "auth",
            {204: None},
            [*UNSAFE, 422],
            security=UNSAFE_ANYONE,
            body="PasswordResetRequest",
            description="204 whether or not an account has the address (the answer and "
            "its timing tell nothing). The link works once, for PASSWORD_RESET_MINUTES. "
            "429 after RATELIMIT_PASSWORD_RESET requests for one address or from one "
            "client; 422 for something that is not an address.",
        )
    },
    "/auth/password-reset/confirm": {
        "post": operation(
            "confirm_password_reset",
            "Set a new password with a reset link's token",
            "auth",
            {204: None},
            [*UNSAFE, 422],
            security=UNSAFE_ANYONE,
            body="PasswordReset",
            description="Every session of the account ends, this one included: sign in "
            f"with the new password. {_LINK_ERRORS} 422 with `fields.new_password` for a "
            f"password under {MIN_PASSWORD_LENGTH} characters.",
        )
    },
    "/auth/verify-email": {
        "post": operation(
            "send_verification",
            "Mail a link that confirms the account's address",
            "auth",
            {204: None},
            [*UNSAFE, 401, 409],
            security=UNSAFE_SIGNED_IN,
            description="409 `already_verified`; 429 as for a password reset.",
        )
    },
    "/auth/verify-email/confirm": {
        "post": operation(
            "confirm_verification",
            "Confirm the address with the mailed link's token",
            "auth",
            {204: None},
            [*UNSAFE, 422],
            security=UNSAFE_ANYONE,
            body="LinkToken",
            description=f"Confirming twice is fine. {_LINK_ERRORS} Where the site lets "
            "only verified readers comment, posting answers 403 `email_unverified` "
            "until this is done.",
        )
    },
    "/auth/me/email": {
        "post": operation(
            "change_email",
            "Change the account's address (confirmed at the new address)",
            "auth",
            {204: None},
            [*UNSAFE, 401, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="AddressChange",
            description="Mails a link to the new address and a notice to the current "
            "one; the address changes only when the link is followed. 403 "
            "`wrong_password`; 409 `email_taken`; 422 for a bad or unchanged address; "
            "429 as for a password reset.",
        )
    },
    "/auth/me/email/confirm": {
        "post": operation(
            "confirm_email_change",
            "Move the account to the new address with the mailed link's token",
            "auth",
            {204: None},
            [*UNSAFE, 409, 422],
            security=UNSAFE_ANYONE,
            body="LinkToken",
            description=f"{_LINK_ERRORS} 409 `email_taken` if another account took the "
            "address meanwhile.",
        )
    },
    "/auth/me/export": {
        "get": operation(
            "export_me",
            "Download my data",
            "auth",
            {200: ref("AccountExport")},
            [401],
            security=SIGNED_IN,
            description="The account, its comments, poll votes, votes on comments "
            "(reactions) and reports, as an attachment (`Content-Disposition`). Nothing "
            "of other readers but the ids of the comments acted on.",
        )
    },
}

# The account itself: PATCH and DELETE beside the contract's GET.
PATHS["/auth/me"]["patch"] = operation(
    "update_me",
    "Change the display name",
    "auth",
    {200: ref("User")},
    [*UNSAFE, 401, 422],
    security=UNSAFE_SIGNED_IN,
    body="AccountChanges",
    description="The same rules as at registration: 422 `fields.display_name` for a "
    "staff title or a look-alike of another account's name.",
)
PATHS["/auth/me"]["delete"] = operation(
    "delete_me",
    "Delete my account",
    "auth",
    {204: None},
    [*UNSAFE, 401, 409],
    security=UNSAFE_SIGNED_IN,
    body="AccountDeletion",
    description="One transaction. `keep_comments`: true keeps the comments' text under "
    '"Deleted reader", false removes them (those others answered stay as "comment '
    'deleted"). Poll votes stay in the tallies without the account; votes on comments '
    "and reports stay without it. 403 `wrong_password`; 409 `last_admin`.",
)
