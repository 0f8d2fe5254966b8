"""A source's `options`: the settings of its kind, checked against the model its package
declares, stored with defaults filled in, and handed to the adapter."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import Field

from service.ingest.sources import SOURCES
from service.ingest.sources.definition import NoOptions
from service.ingest.sources.generated import options_table, setup_sections
from service.models.catalog import Body
from service.usecases.ingestion_pipeline import adapter_options
from service.usecases.sources import options_model

Headers = dict[str, str]
PROBLEM = "application/problem+json"


async def test_an_unknown_option_is_a_422_naming_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    # Jira has no option "window" (its issue types are a field of every source).
    body = {"name": "jira-x", "kind": "jira", "secret": "s3cret", "options": {"window": 5}}
    answer = await client.post("/v1/sources", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == ["options.window"]
    # Nothing was stored.
    assert (await client.get("/v1/sources/jira-x", headers=admin)).status_code == 404


async def test_a_source_without_options_keeps_an_empty_object(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = {"name": "jira-y", "kind": "opsgenie", "secret": "s3cret"}
    created = await client.post("/v1/sources", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["options"] == {}
    replaced = await client.put("/v1/sources/jira-y", json=body | {"options": {}}, headers=admin)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["options"] == {}


class _Example(Body):
    window_minutes: int = Field(default=30, ge=1, description="How long a deploy is watched.")
    field_id: str = Field(default="customfield_10001", description="The field naming services.")


def test_a_kinds_options_are_listed_with_their_defaults() -> None:
    assert options_table(NoOptions) == []
    assert options_table(_Example) == [
        "",
        "| option | default | meaning |",
        "|---|---|---|",
        "| `window_minutes` | `30` | How long a deploy is watched. |",
        '| `field_id` | `"customfield_10001"` | The field naming services. |',
    ]


def test_every_registered_kind_has_an_options_model_whose_fields_all_default() -> None:
    for kind in [*SOURCES, "api"]:
        model = options_model(kind)
        # Every option may be left out: a source registered before the option existed reads it.
        assert model.model_validate({}).model_dump() is not None
        assert all(not f.is_required() for f in model.model_fields.values()), kind


def test_a_packages_setup_text_goes_into_the_readme_block(tmp_path: Path) -> None:
    folder = tmp_path / "service/ingest/sources"
    for kind in SOURCES:
        (folder / kind).mkdir(parents=True)
    (folder / "github" / "setup.md").write_text("#### GitHub\n\nAdd a webhook.\n")
    sections = setup_sections(tmp_path)
    # Tools with neither a setup.md nor options of their kind get no section.
    expected: list[str] = []
    for kind, source in SOURCES.items():
        text = ["#### GitHub", "", "Add a webhook."] if kind == "github" else [f"#### `{kind}`"]
        if kind == "github" or source.options.model_fields:
            expected += ["", *text, *options_table(source.options)]
    assert sections == [*expected, ""]
    for kind in SOURCES:
        (folder / kind / "setup.md").unlink(missing_ok=True)
    if not any(s.options.model_fields for s in SOURCES.values()):
        assert setup_sections(tmp_path) == ["", "(No tool needs more than its row above.)", ""]


def test_the_adapter_is_handed_the_stored_options() -> None:
    from service.models.sources import Source

    source = Source(
        id=1, name="argo", kind="jira", has_secret=True, username=None, severity_map={},
        service_rules=[], production_envs=["production"], incident_issue_types=["Incident"],
        infer_links=True, infer_window_minutes=240, open_to_api=False,
        options={"window_minutes": 45}, webhook_path="/v1/webhooks/argo",
    )  # fmt: skip
    options = adapter_options(source)
    assert options.kind_options == {"window_minutes": 45}
    assert options.incident_issue_types == ("incident",)
