"""The browser tools under service/web/static/vendor/ are npm's files, byte for byte, at the
versions scripts/refresh-web-vendor pins, each with its licence: PROVENANCE.md (which the
script writes) records the SHA-256 of every file, and nothing else lies there."""

from __future__ import annotations

import hashlib
import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from service.cli.common import REPO_ROOT

VENDOR = REPO_ROOT / "service" / "web" / "static" / "vendor"
SCRIPT = REPO_ROOT / "scripts" / "refresh-web-vendor"
PROVENANCE = (VENDOR / "PROVENANCE.md").read_text()


def table_rows(cells: int) -> list[list[str]]:
    """The data rows of PROVENANCE.md's table with this many columns, `code` unwrapped."""
    rows = [
        [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        for line in PROVENANCE.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    same_width = [row for row in rows if len(row) == cells]
    return same_width[1:]  # the first is the header


def recorded_hashes() -> dict[str, str]:
    return {row[0]: row[1] for row in table_rows(2)}


def pins() -> Any:
    return runpy.run_path(str(SCRIPT))["PINS"]


def test_every_vendored_file_is_recorded_with_its_hash() -> None:
    on_disk = {
        p.relative_to(VENDOR).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert on_disk == recorded_hashes()


def test_provenance_names_the_pinned_versions() -> None:
    packages = {row[0]: (row[1], row[2]) for row in table_rows(6)}
    assert packages == {pin.folder: (pin.package, pin.version) for pin in pins()}
    for row in table_rows(6):
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]+=*", row[4]), row


@pytest.mark.parametrize("folder", sorted(p.name for p in VENDOR.iterdir() if p.is_dir()))
def test_each_tool_keeps_its_licence(folder: str) -> None:
    licence = (VENDOR / folder / "LICENSE").read_text()
    assert "MIT License" in licence or "Apache License" in licence, folder


def test_the_script_copies_what_it_pins() -> None:
    for pin in pins():
        for name in pin.files:
            assert (VENDOR / pin.folder / Path(name).name).is_file(), (pin.package, name)
