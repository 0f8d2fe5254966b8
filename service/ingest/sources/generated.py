"""What `kpi export` writes from the source packages and SOURCES (and `kpi export --check`
checks): the registry's list of packages (`packages.py`, from the folders of the sources
package), and the lists of source kinds kept outside the registry: the README's table of
sources, the models' SourceKind and the Python client's literal (each a block between two
marker lines of its file), and the database's reference table of kinds (a repeatable script
that `kpi migrate` runs after the numbered migrations)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel

from service.ingest.sources import API_DOCS, API_KIND, KINDS, SOURCES
from service.ingest.sources.definition import SourceDocs

README_BEGIN = "<!-- source kinds: written by `kpi export` from service/ingest/sources -->"
README_END = "<!-- end of source kinds -->"
SETUP_BEGIN = "<!-- source setup: written by `kpi export` from service/ingest/sources -->"
SETUP_END = "<!-- end of source setup -->"
PYTHON_BEGIN = "# Source kinds: written by `kpi export` from service/ingest/sources."
PYTHON_END = "# End of source kinds."

#: The files written whole or holding a block, relative to the repository root.
PACKAGES = Path("service/ingest/sources/packages.py")
KINDS_SQL = Path("sql/migrations/repeatable/source_kinds.sql")
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


def options_table(model: type[BaseModel]) -> list[str]:
    """A kind's options as a Markdown table (nothing for a kind without options)."""
    rows = [
        f"| `{name}` | `{json.dumps(field.get_default(call_default_factory=True))}` | "
        f"{field.description or ''} |"
        for name, field in model.model_fields.items()
    ]
    if not rows:
        return []
    return ["", "| option | default | meaning |", "|---|---|---|", *rows]


def setup_sections(root: Path) -> list[str]:
    """The README's per-tool setup: each package's setup.md and its options, in order."""
    lines: list[str] = []
    for source in SOURCES.values():
        setup = (root / PACKAGES).parent / source.kind / "setup.md"
        text = setup.read_text().strip().split("\n") if setup.exists() else []
        options = options_table(source.options)
        if not text and not options:
            continue
        lines += ["", *(text or [f"#### `{source.kind}`"]), *options]
    return [*lines, ""] if lines else ["", "(No tool needs more than its row above.)", ""]


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


#: A package's entry in packages.py.
_LISTED = re.compile(r"^    (\w+)\.SOURCE,$", re.MULTILINE)


def package_names(root: Path) -> list[str]:
    """The source packages in the folder, in the order packages.py lists them; new ones last."""
    folder = (root / PACKAGES).parent
    present = {p.parent.name for p in folder.glob("*/__init__.py")}
    listed = [n for n in _LISTED.findall((root / PACKAGES).read_text()) if n in present]
    return listed + sorted(present - set(listed))


def packages_module(names: list[str]) -> str:
    """packages.py: every source package's SOURCE, in the documented order."""
    imports = f"from service.ingest.sources import {', '.join(sorted(names))}"
    if len(imports) > 100:
        imports = "\n".join(
            ["from service.ingest.sources import (", *(f"    {n}," for n in sorted(names)), ")"]
        )
    return "\n".join([
        '"""The source packages of this folder, in the order the README documents them: written by',
        "`kpi export` from the folders (a new package goes last), checked by `kpi export --check`.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        imports,
        "from service.ingest.sources.definition import WebhookSource",
        "",
        "PACKAGED_SOURCES: tuple[WebhookSource, ...] = (",
        *(f"    {n}.SOURCE," for n in names),
        ")",
        "",
    ])  # fmt: skip


def kinds_sql() -> str:
    """The script keeping the database's table of source kinds in step with KINDS."""
    values = ",\n".join(f"    ('{kind}')" for kind in KINDS)
    return "\n".join([
        "-- Written by `kpi export` from SOURCES (service/ingest/sources): the kinds a source may",
        "-- have. `kpi migrate` (and start-up) runs it after the numbered migrations, every time:",
        "-- it only adds, and a kind no longer registered stays for the sources that use it.",
        "insert into source_kind (kind)",
        "values",
        values,
        "on conflict (kind) do nothing;",
        "",
    ])  # fmt: skip


def generated_files(root: Path) -> dict[Path, str]:
    """The files written whole, and those holding a block with their blocks, as the source
    packages and SOURCES write them now."""
    files = {root / KINDS_SQL: kinds_sql()}
    if (root / PACKAGES).exists():
        files[root / PACKAGES] = packages_module(package_names(root))
    blocks = {
        README: (README_BEGIN, README_END, readme_table()),
        MODEL: (PYTHON_BEGIN, PYTHON_END, model_members()),
        CLIENT: (PYTHON_BEGIN, PYTHON_END, client_literal()),
    }
    for relative, (begin, end, block) in blocks.items():
        path = root / relative
        if path.exists():  # a checkout: an installed package has no README or client
            files[path] = replace_block(path.read_text(), begin, end, block)
    readme = root / README
    if readme in files:
        files[readme] = replace_block(files[readme], SETUP_BEGIN, SETUP_END, setup_sections(root))
    return files
