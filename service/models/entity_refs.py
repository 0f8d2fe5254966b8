"""Backstage entity references, `[<kind>:][<namespace>/]<name>`, as teams and services carry
them and as lookups take them.

A reference is read the way Backstage's catalog reads one: the kind before the first colon,
the namespace before the first slash, each part checked by the catalog's own rules (a kind of
letters and digits, a namespace that is a DNS label, a name of letters, digits and
`-`, `_` and `.` inside, each at most 63 characters). The kind and namespace left out
are the context's defaults: namespace `default`, kind `component` for a service and `group`
for a team. Backstage compares references case-insensitively, so a reference is kept and
looked up in lower case: `Component:Default/Checkout` and `checkout` name the same service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

DEFAULT_NAMESPACE = "default"

#: Each part as the catalog checks it: a namespace is a DNS label (letters, digits and
#: dashes inside); a name may also hold `_` and `.` inside; each is at most 63 characters.
_KIND = re.compile(r"[a-z][a-z0-9]{0,62}")
_NAMESPACE_TEXT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?"
_NAME_TEXT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?"
_NAMESPACE = re.compile(_NAMESPACE_TEXT)
_NAME = re.compile(_NAME_TEXT)


def _any_case(word: str) -> str:
    """A regular expression matching `word` (letters) in any case: `[gG][rR]...`."""
    return "".join(f"[{c}{c.upper()}]" for c in word)


@dataclass(frozen=True)
class EntityRef:
    """A whole reference, every part in lower case."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RefContext:
    """What a reference may name where it is given: the kinds allowed, the first one being
    the kind a reference without one takes."""

    kinds: tuple[str, ...]

    @property
    def pattern(self) -> str:
        """The references `parse` accepts, as a regular expression (for the OpenAPI
        document: the same rule, without the message saying which part is wrong)."""
        kinds = "|".join(_any_case(k) for k in self.kinds)
        return f"^(?:(?:{kinds}):)?(?:{_NAMESPACE_TEXT}/)?{_NAME_TEXT}$"

    def parse(self, text: str) -> EntityRef:
        """The reference `text` names, normalised; ValueError saying what is wrong."""
        kind, sep, rest = text.lower().partition(":")
        if not sep:
            kind, rest = self.kinds[0], kind
        namespace, sep, name = rest.partition("/")
        if not sep:
            namespace, name = DEFAULT_NAMESPACE, namespace
        if not _KIND.fullmatch(kind):
            raise ValueError(f"kind {kind!r} is not a Backstage kind (letters and digits)")
        if kind not in self.kinds:
            raise ValueError(f"must be of kind {' or '.join(self.kinds)}, not {kind!r}")
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(
                f"namespace {namespace!r} must be letters, digits and dashes, starting and "
                "ending with a letter or digit, at most 63 characters"
            )
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"name {name!r} must be letters, digits, '-', '_' and '.', starting and "
                "ending with a letter or digit, at most 63 characters"
            )
        return EntityRef(kind, namespace, name)

    def normalised(self, text: str) -> str:
        """`text` as stored and compared: `kind:namespace/name`, lower case."""
        return str(self.parse(text))

    def default_for(self, slug: str) -> str:
        """The reference of an item that gives none: its slug, in the default namespace."""
        return str(EntityRef(self.kinds[0], DEFAULT_NAMESPACE, slug))


#: A business service is a Backstage component, or a system of components.
SERVICE_REFS = RefContext(("component", "system"))
#: A team is a Backstage group.
TEAM_REFS = RefContext(("group",))

_SHAPE = "`[<kind>:][<namespace>/]<name>`, compared case-insensitively and kept in lower case"

ServiceRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description=f"Backstage entity reference {_SHAPE}; kind `component` (the default) "
        "or `system`, namespace `default` by default.",
        examples=["component:default/checkout"],
        json_schema_extra={"pattern": SERVICE_REFS.pattern},
    ),
    AfterValidator(SERVICE_REFS.normalised),
]
TeamRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description=f"Backstage entity reference {_SHAPE}; kind `group`, namespace `default` "
        "by default.",
        examples=["group:default/payments-team"],
        json_schema_extra={"pattern": TEAM_REFS.pattern},
    ),
    AfterValidator(TEAM_REFS.normalised),
]
