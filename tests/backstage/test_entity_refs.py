"""Backstage entity references read as Backstage's catalog reads them: kind before the first
colon, namespace before the first slash, the context's defaults for the parts left out, the
catalog's rules for each part, and lower case (Backstage compares case-insensitively)."""

from __future__ import annotations

import re

import pytest

from service.models.entity_refs import SERVICE_REFS, TEAM_REFS, EntityRef, RefContext

NORMALISED = [
    ("checkout", "component:default/checkout"),
    ("shop/checkout", "component:shop/checkout"),
    ("component:checkout", "component:default/checkout"),
    ("Component:Default/Checkout", "component:default/checkout"),
    ("system:payments/Ledger.V2", "system:payments/ledger.v2"),
    ("component:default/web_store-2", "component:default/web_store-2"),
    ("component:a--b/x--y", "component:a--b/x--y"),
]


@pytest.mark.parametrize(("given", "stored"), NORMALISED)
def test_service_references_are_normalised(given: str, stored: str) -> None:
    assert SERVICE_REFS.normalised(given) == stored


def test_parts_and_the_defaults_of_each_context() -> None:
    assert SERVICE_REFS.parse("shop/checkout") == EntityRef("component", "shop", "checkout")
    assert TEAM_REFS.parse("Payments-Team") == EntityRef("group", "default", "payments-team")
    assert TEAM_REFS.default_for("payments") == "group:default/payments"
    assert SERVICE_REFS.default_for("checkout") == "component:default/checkout"


INVALID = [
        (SERVICE_REFS, "group:default/payments",
         "must be of kind component or system, not 'group'"),
        (TEAM_REFS, "component:checkout", "must be of kind group, not 'component'"),
        (SERVICE_REFS, "1st:checkout", "kind '1st' is not a Backstage kind"),
        (SERVICE_REFS, "component:Shop_Floor/checkout", "namespace 'shop_floor' must be"),
        (SERVICE_REFS, "component:-shop/checkout", "namespace '-shop' must be"),
        (SERVICE_REFS, "component:default/", "name '' must be"),
        (SERVICE_REFS, "component:default/a/b", "name 'a/b' must be"),
        (SERVICE_REFS, "component:default/-checkout", "name '-checkout' must be"),
        (SERVICE_REFS, "component:default/checkout.", "name 'checkout.' must be"),
        (SERVICE_REFS, "component:default/" + "n" * 64, "at most 63 characters"),
        (SERVICE_REFS, "component:" + "n" * 64 + "/checkout", "at most 63 characters"),
        (SERVICE_REFS, "checkout\n", "name 'checkout\\n' must be"),
        (SERVICE_REFS, " checkout", "name ' checkout' must be"),
]  # fmt: skip


@pytest.mark.parametrize(("context", "given", "problem"), INVALID)
def test_invalid_references_say_what_is_wrong(
    context: RefContext, given: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        context.parse(given)


@pytest.mark.parametrize(
    ("context", "given", "accepted"),
    [
        *[(SERVICE_REFS, given, True) for given, _ in NORMALISED],
        *[(context, given, False) for context, given, _ in INVALID],
        (TEAM_REFS, "Group:Default/Payments-Team", True),
    ],
)
def test_the_openapi_pattern_accepts_what_parse_accepts(
    context: RefContext, given: str, accepted: bool
) -> None:
    # ECMA-262's `$` ends the string; Python's fullmatch is the same rule.
    assert (re.fullmatch(context.pattern.strip("^$"), given) is not None) is accepted
