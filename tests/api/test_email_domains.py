"""Accounts on internal and special-use domains work: the CLI, the API and the pages.

Newsrooms run staff mail on ``newsroom.local`` or ``corp.internal``, and test setups
use ``example.test``; any syntactically valid address is accepted.
"""

from __future__ import annotations

import pytest

from webapp.errors import InvalidInput
from webapp.services.accounts import normalise_email

INTERNAL_ADDRESSES = [
    "editor@newsroom.local",
    "desk@example.test",
    "night.editor@corp.internal",
    "reader@pulse.example",
    "ops@intranet",
    "admin@localhost",
    "probe@host.invalid",
    "tips@newsroomxyz.onion",
]


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_internal_and_special_use_domains_are_valid(address):
    assert normalise_email(address) == address


def test_internal_addresses_are_normalised_like_any_other():
    assert normalise_email("  Editor@NewsRoom.LOCAL ") == "editor@newsroom.local"
    assert normalise_email("Desk@Example.TEST") == "desk@example.test"


@pytest.mark.parametrize(
    "address",
    [
        "editor@",
        "@newsroom.local",
        "editor@newsroom..local",
        "editor@.local",
        "editor@@newsroom.local",
        "edi tor@newsroom.local",
        "editor@newsroom.local@evil.example",
        "editor@-newsroom.local",
        "editor@" + "x" * 64 + ".local",
        "editor",
    ],
)
def test_addresses_that_are_not_addresses_are_still_refused(address):
    with pytest.raises(InvalidInput) as refused:
        normalise_email(address)
    assert "pulse-internal" not in str(refused.value.fields)


@pytest.mark.parametrize("address", ["editor@newsroom.local", "editor@example.test"])
def test_users_create_accepts_internal_domains_and_the_account_signs_in(runner, api, address):
    result = runner.invoke(
        args=["users", "create", address, "--role", "editor", "--password", "a long password"]
    )
    assert result.exit_code == 0, result.output
    assert address in result.output
    response = api.post("/api/v1/auth/login", {"email": address, "password": "a long password"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["role"] == "editor"


@pytest.mark.parametrize("address", ["reader@newsroom.local", "Reader@Example.TEST"])
def test_api_registration_accepts_internal_domains(api, address):
    response = api.post(
        "/api/v1/auth/register",
        {"email": address, "password": "long enough pw", "display_name": "Internal Reader"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["email"] == address.lower()


def test_html_registration_accepts_internal_domains(make_api):
    for number, address in enumerate(("sam@newsroom.local", "sam@corp.internal")):
        visitor = make_api()
        response = visitor.form(
            "/register",
            {"display_name": f"Sam {number}", "email": address, "password": "long enough pw"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert visitor.get("/api/v1/auth/me").get_json()["email"] == address
