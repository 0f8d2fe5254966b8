"""The lists of source kinds kept outside the registry, written from SOURCES by `kpi export`
(and checked by `kpi export --check`): the README's table of sources, the models' SourceKind
and the Python client's literal. Each is a block between two marker lines of its file."""

from __future__ import annotations

import json
from pathlib import Path

from service.ingest.sources import API_DOCS, API_KIND, KINDS, SOURCES
from service.ingest.sources.definition import SourceDocs

README_BEGIN = "<!-- source kinds: written by `kpi export` from service/ingest/sources -->"
README_END = "<!-- end of source kinds -->"
PYTHON_BEGIN = "# Source kinds: written by `kpi export` from service/ingest/sources."
PYTHON_END = "# End of source kinds."

#: The files holding a block, relative to the repository root.
README = Path("README.md")
MODEL = Path("service/models/sources.py")
CLIENT = Path("clients/python/kpi_client/models/base.py")


def readme_table() -> list[str]:
    """The README's table of sources: one row per kind."""
    docs: list[tuple[str, SourceDocs]] = [(s.kind, s.docs) for s in SOURCES.values()]
    docs.append((API_KIND, API_DOCS))
    rows = [f"| `{kind}` | {d.sends} | {d.proof} | {d.dedupe} |" for kind, d in docs]
    return [
        "| kind | what it sends | how it proves itself | delivery id (dedupe) |",
        "|---|---|---|---|",
        *rows,
    ]


def model_members() -> list[str]:
    """The members of the models' SourceKind enum."""
    return [f"    {kind.upper()} = {json.dumps(kind)}" for kind in KINDS]


def client_literal() -> list[str]:
    """The client's SourceKind literal, laid out as `ruff format` leaves it."""
    line = f"SourceKind = Literal[{', '.join(json.dumps(k) for k in KINDS)}]"
    if len(line) <= 100:
        return [line]
    return ["SourceKind = Literal[", *(f"    {json.dumps(k)}," for k in KINDS), "]"]


def replace_block(text: str, begin: str, end: str, block: list[str]) -> str:
    """The text with the lines between the (indented) marker lines `begin` and `end` replaced."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == begin]
    ends = [i for i, line in enumerate(lines) if line.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"expected one block between {begin!r} and {end!r}")
    return "\n".join([*lines[: starts[0] + 1], *block, *lines[ends[0] :]])


def generated_files(root: Path) -> dict[Path, str]:
    """The files holding a block, with their blocks as SOURCES writes them now."""
    blocks = {
        README: (README_BEGIN, README_END, readme_table()),
        MODEL: (PYTHON_BEGIN, PYTHON_END, model_members()),
        CLIENT: (PYTHON_BEGIN, PYTHON_END, client_literal()),
    }
    files = {}
    for relative, (begin, end, block) in blocks.items():
        path = root / relative
        if path.exists():  # a checkout: an installed package has no README or client
            files[path] = replace_block(path.read_text(), begin, end, block)
    return files
