"""The README's Security section lists every limit with its setting and default, and says what
service/config.py says: a setting renamed, removed or given another default fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"

#: Every setting that bounds what a client can make the service do: the section must list each.
LIMITS = {
    "graphql_max_cost", "graphql_cost_per_request", "graphql_deadline_seconds",
    "graphql_max_connections", "graphql_max_depth", "graphql_max_aliases", "graphql_max_tokens",
    "rate_limit_per_second", "rate_limit_burst",
    "webhook_client_refusals_per_second", "webhook_client_refusals_burst",
    "webhook_source_rejections_per_second", "webhook_source_rejections_burst",
    "webhook_rejection_samples", "webhook_event_time_tolerance_seconds",
    "forwarded_allow_ips", "max_body_bytes", "body_read_timeout_seconds", "max_batch_points",
    "max_ndjson_line_bytes", "observation_window_past_days", "observation_window_future_days",
    "observation_partition_years", "outbound_allow", "notify_timeout_seconds", "cors_origins",
}  # fmt: skip

_UNITS = {None: 1, "KiB": 1024, "MiB": 1024 * 1024}


def security_section() -> str:
    text = README.read_text()
    starts = [m.start() for m in re.finditer(r"^## Security$", text, flags=re.M)]
    assert len(starts) == 1, "the README has one Security section"
    rest = text[starts[0] + len("## Security") :]
    end = re.search(r"^## ", rest, flags=re.M)
    return rest[: end.start()] if end else rest


def table_rows(section: str) -> list[dict[str, str]]:
    """Every row of the section's tables, as {column header: cell}."""
    rows: list[dict[str, str]] = []
    header: list[str] = []
    for line in section.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if not header:
            header = cells
        elif not set(line) <= set("|- "):
            assert len(cells) == len(header), line
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def stated(text: str) -> object:
    """The value a default cell states: a `literal`, none, or a number with its unit."""
    text = text.strip()
    if literal := re.fullmatch(r"`([^`]*)`.*", text):
        return literal[1]
    if text.startswith("none"):
        return None
    if number := re.match(r"([0-9][0-9,]*(?:\.[0-9]+)?)(?:\s*(KiB|MiB)\b)?", text):
        return float(number[1].replace(",", "")) * _UNITS[number[2]]
    return text.split()[0]


def actual(name: str) -> object:
    field = Settings.model_fields[name]
    value = field.get_default(call_default_factory=True)
    if value == []:
        return None
    return float(value) if isinstance(value, int | float) else value


def stated_defaults() -> dict[str, object]:
    """Setting name -> the default the section states, for each row naming KPI_ settings."""
    found: dict[str, object] = {}
    for row in table_rows(security_section()):
        names = re.findall(r"`KPI_([A-Z0-9_]+)`", row["setting"])
        if not names:
            continue
        values = row["default"].split(";")[0].split(" / ")
        assert len(values) == len(names), f"one default per setting: {row}"
        for name, value in zip(names, values, strict=True):
            found[name.lower()] = stated(value)
    return found


def test_the_section_lists_every_limit() -> None:
    assert LIMITS <= set(Settings.model_fields)
    assert sorted(LIMITS - set(stated_defaults())) == []


@pytest.mark.parametrize("name", sorted(stated_defaults()))
def test_each_listed_setting_has_the_default_the_section_states(name: str) -> None:
    assert name in Settings.model_fields, f"KPI_{name.upper()} is no setting"
    assert stated_defaults()[name] == actual(name)


def test_every_setting_the_section_names_exists() -> None:
    named = {n.lower() for n in re.findall(r"KPI_([A-Z0-9_]+)", security_section())}
    assert sorted(named - set(Settings.model_fields)) == []


def test_stated_reads_numbers_units_literals_and_none() -> None:
    assert stated("2,000,000") == 2_000_000
    assert stated("86,400 s (a day), either way") == 86_400
    assert stated("8 MiB") == 8 * 1024 * 1024
    assert stated("`127.0.0.1`") == "127.0.0.1"
    assert stated("none") is None
    assert stated("INFO") == "INFO"
