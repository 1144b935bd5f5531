"""The access policy is one table: every action names known roles, every page names an action,
and no page or query decides by a role's name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard import access
from dashboard.pages import PAGES
from dashboard.users import ROLES, User

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_actions_name_known_roles_and_pages_name_actions():
    for action in access.ACTIONS.values():
        assert action.roles and action.roles <= set(ROLES), action.name
    assert set(access.SCOPES) == set(ROLES)
    for page in PAGES:
        assert page.action in access.ACTIONS, page.path


@pytest.mark.parametrize("folder", ["pages", "queries", "components"])
def test_no_role_name_outside_the_access_policy(folder):
    found = []
    for path in sorted((DASHBOARD / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in ROLES:
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert not found, found


def test_ensure_refuses_with_the_actions_description():
    access.ensure(User("ada", "admin"), "per-worker-pay")
    with pytest.raises(access.NotAllowed, match="per-worker pay"):
        access.ensure(User("aud", "auditor"), "per-worker-pay")
    with pytest.raises(access.NotAllowed, match="Unknown role"):
        access.scope_of(User("eve", "root"))
