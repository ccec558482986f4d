"""Signing up, in and out: the CSRF token, the user, and the /csrf and /auth paths."""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import (
    ANYONE,
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
}

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
}
