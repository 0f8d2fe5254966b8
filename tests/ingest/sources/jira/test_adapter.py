"""The Jira adapter against the published issue webhooks, and malformed shapes.

The published payloads are Jira Software issues (Story, Bug), so most tests name those types
as incident types; with the default options (only "Incident") each is unsupported.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.ingest.model import AdapterOptions, Delivery, PayloadError, Unsupported
from service.ingest.sources.jira import adapter as jira
from service.ingest.sources.jira import replay as jira_replay
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent
from tests.ingest.fixtures import fixture, shared_fixtures

CREATED = "jira/jira_issue_created/mattermost_webhook-issue-created.json"
RAISED = "jira/jira_issue_updated/mattermost_webhook-issue-updated-raised-priority.json"
REOPENED = "jira/jira_issue_updated/mattermost_webhook-issue-updated-reopened.json"
RESOLVED = "jira/jira_issue_updated/mattermost_webhook-issue-updated-resolved.json"
SERVER_CLOSED = "jira/jira_issue_updated/mattermost_webhook-server-issue-updated-closed.json"
SERVER_RESOLVED = "jira/jira_issue_updated/mattermost_webhook-server-issue-updated-resolved.json"

SOFTWARE = AdapterOptions(incident_issue_types=("story", "BUG"))

#: The issues' pages, from issue.self (https://some-instance-test.atlassian.net/rest/api/2/...)
CLOUD_URL = "https://some-instance-test.atlassian.net/browse/TES-41"
SERVER_URL = "http://some-instance-test.centralus.cloudapp.azure.com:8080/browse/TES-4"
#: fields.created 2019-02-15T19:01:52.971-0800
CLOUD_CREATED = dt.datetime(2019, 2, 16, 3, 1, 52, 971000, tzinfo=dt.UTC)
#: fields.created 2019-08-13T06:14:23.580+0800
SERVER_CREATED = dt.datetime(2019, 8, 12, 22, 14, 23, 580000, tzinfo=dt.UTC)
LONGER = "Unit test description, not that long, a little longer now"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)


def cloud(step: IncidentStep, key: str, occurred_at: dt.datetime, **fields: Any) -> IncidentEvent:
    """TES-41 on Jira Cloud: a Story, priority High, component COMP-1."""
    values: dict[str, Any] = {
        "external_id": "TES-41",
        "event_key": key,
        "step": step,
        "occurred_at": occurred_at,
        "detected_at": CLOUD_CREATED,
        "title": "Unit test summary 1",
        "url": CLOUD_URL,
        "priority": "High",
        "severity": Severity.SEV2,
        "severity_raw": "High",
        "service_ref": "TES",
        "service_labels": {
            "project": "TES",
            "component:COMP-1": "true",
            "label:test-label": "true",
        },
        "text": f"Unit test summary 1\n{LONGER}",
    }
    return IncidentEvent.model_validate(values | fields)


def server(key: str, occurred_at: dt.datetime, text: str) -> IncidentEvent:
    """TES-4 on Jira Server: a Bug, priority Medium, no components or labels."""
    return IncidentEvent(
        external_id="TES-4",
        event_key=key,
        step=IncidentStep.RESOLVED,
        occurred_at=occurred_at,
        detected_at=SERVER_CREATED,
        title="Unit test summary 1",
        url=SERVER_URL,
        priority="Medium",
        severity=Severity.SEV3,
        severity_raw="Medium",
        service_ref="TES",
        service_labels={"project": "TES"},
        text=text,
    )


#: fixture -> (issue type, the event it gives with SOFTWARE options)
CASES: dict[str, tuple[str, IncidentEvent]] = {
    CREATED: (
        "Story",
        cloud(
            IncidentStep.TRIGGERED,
            "10040:jira:issue_created:1550286113023",
            utc(2019, 2, 16, 3, 1, 53, 23000),
            title="Unit test summary",
            service_labels={
                "project": "TES",
                "component:COMP-1": "true",
                "label:test-label": "true",
            },
            text="Unit test summary\nUnit test description, not that long",
        ),
    ),
    RAISED: (
        "Story",
        cloud(
            IncidentStep.UPDATED,
            "10040:jira:issue_updated:1550351716080",
            utc(2019, 2, 16, 21, 15, 16, 80000),
            service_labels={
                "project": "TES",
                "component:COMP-1": "true",
                "label:sad": "true",
                "label:test-label": "true",
            },
        ),
    ),
    REOPENED: (
        "Story",
        cloud(
            IncidentStep.REOPENED,
            "10040:jira:issue_updated:1550287026531",
            utc(2019, 2, 16, 3, 17, 6, 531000),
        ),
    ),
    RESOLVED: (
        "Story",
        # fields.resolutiondate 2019-02-15T19:15:40.470-0800 (timestamp is 37 ms later)
        cloud(
            IncidentStep.RESOLVED,
            "10040:jira:issue_updated:1550286940507",
            utc(2019, 2, 16, 3, 15, 40, 470000),
        ),
    ),
    SERVER_CLOSED: (
        "Bug",
        # Resolved -> Closed, both done: resolved as of fields.resolutiondate
        # 2019-08-14T11:03:02.179+0800 (description is a string, the same as the summary)
        server(
            "10300:jira:issue_updated:1565752078358",
            utc(2019, 8, 14, 3, 3, 2, 179000),
            "Unit test summary 1",
        ),
    ),
    SERVER_RESOLVED: (
        "Bug",
        # fields.resolutiondate 2019-08-13T07:23:01.890+0800; description null
        server(
            "10300:jira:issue_updated:1565652182025",
            utc(2019, 8, 12, 23, 23, 1, 890000),
            "Unit test summary 1",
        ),
    ),
}


def delivery(payload: Any) -> Delivery:
    return Delivery(headers={}, payload=payload)


def parse(payload: Any, options: AdapterOptions | None = None) -> list[IncidentEvent]:
    """Parsed with the default options: the payloads here are made Incident issues."""
    return jira.parse(delivery(payload), options or AdapterOptions()).incidents


def test_every_jira_fixture_is_covered() -> None:
    assert sorted(CASES) == [f for f in shared_fixtures() if f.startswith("jira/")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    _, event = CASES[name]
    given = delivery(fixture(name))
    assert jira.KIND == "jira"
    assert jira.event_type(given) == name.split("/")[1].replace("jira_", "jira:")
    assert jira_replay.delivery_key(given) == event.event_key
    assert jira.parse(given, SOFTWARE).incidents == [event]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_is_not_an_incident_with_default_options(name: str) -> None:
    issue_type, _ = CASES[name]
    reason = f"issue type {issue_type} is not an incident type (configure incident_issue_types)"
    with pytest.raises(Unsupported) as caught:
        parse(fixture(name), AdapterOptions())
    assert str(caught.value) == reason


def as_incident(name: str) -> Any:
    """The payload as if its issue were of the type Jira Service Management uses."""
    payload = copy.deepcopy(fixture(name))
    payload["issue"]["fields"]["issuetype"]["name"] = "Incident"
    return payload


def test_default_incident_type_matches_case_insensitively() -> None:
    [event] = parse(as_incident(CREATED), AdapterOptions())
    assert (event.external_id, event.step) == ("TES-41", IncidentStep.TRIGGERED)


def test_other_webhook_events_are_unsupported() -> None:
    payload = as_incident(CREATED)
    payload["webhookEvent"] = "comment_created"
    with pytest.raises(Unsupported, match="Jira event comment_created is not used"):
        parse(payload)


def with_changelog(name: str, *items: dict[str, Any], **fields: Any) -> Any:
    payload = as_incident(name)
    payload["changelog"]["items"] = list(items)
    payload["issue"]["fields"].update(fields)
    return payload


def test_resolution_cleared_alone_reopens() -> None:
    item = {"field": "resolution", "from": "10000", "fromString": "Done", "to": None}
    [event] = parse(with_changelog(RAISED, item))
    assert event.step is IncidentStep.REOPENED


def test_move_into_a_done_name_resolves_without_a_category() -> None:
    item = {"field": "status", "from": "3", "fromString": "In Progress", "toString": "Closed"}
    payload = with_changelog(RAISED, item, status={"name": "Closed"})
    [event] = parse(payload)
    assert event.step is IncidentStep.RESOLVED
    assert event.occurred_at == utc(2019, 2, 16, 21, 15, 16, 80000)  # no resolutiondate


def test_move_into_a_done_category_resolves_whatever_its_name() -> None:
    item = {"field": "status", "from": "3", "to": "42", "toString": "Mitigated"}
    status = {"id": "42", "name": "Mitigated", "statusCategory": {"key": "done"}}
    [event] = parse(with_changelog(RAISED, item, status=status))
    assert event.step is IncidentStep.RESOLVED


def test_move_between_open_statuses_is_an_update() -> None:
    item = {"field": "status", "fromString": "To Do", "toString": "In Progress"}
    [event] = parse(with_changelog(RAISED, item))
    assert event.step is IncidentStep.UPDATED


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        ("Highest", Severity.SEV1),
        ("High", Severity.SEV2),
        ("Medium", Severity.SEV3),
        ("Low", Severity.SEV4),
        ("Lowest", Severity.SEV5),
        ("Blocker", Severity.SEV1),  # Jira Data Center's scheme (service_management.py)
        ("Urgent", None),
    ],
)
def test_priority_gives_severity(name: str, severity: Severity | None) -> None:
    payload = as_incident(RAISED)
    payload["issue"]["fields"]["priority"]["name"] = name
    [event] = parse(payload)
    assert (event.priority, event.severity, event.severity_raw) == (name, severity, name)


def test_rich_text_description_is_left_out_of_text() -> None:
    payload = as_incident(RAISED)
    payload["issue"]["fields"]["description"] = {"type": "doc", "version": 1, "content": []}
    assert parse(payload)[0].text == "Unit test summary 1"


@pytest.mark.parametrize(
    ("api_url", "page"),
    [
        (
            "https://jira.example.com/jira/rest/api/2/issue/10040",
            "https://jira.example.com/jira/browse/TES-41",
        ),
        (
            "https://bot:secret@jira.example.com/rest/api/2/issue/1",
            "https://jira.example.com/browse/TES-41",
        ),
        ("/rest/api/2/issue/10040", None),
        ("http://[::1/rest/api/2/issue/10040", None),
        (10040, None),
    ],
)
def test_url_is_the_issue_page_from_its_rest_address(api_url: Any, page: str | None) -> None:
    payload = as_incident(CREATED)
    payload["issue"]["self"] = api_url
    assert parse(payload)[0].url == page


def test_delivery_key_of_garbage_is_none() -> None:
    assert jira_replay.delivery_key(delivery("x")) is None
    assert jira_replay.delivery_key(delivery({"webhookEvent": "jira:issue_created"})) is None
    assert jira.event_type(delivery(3)) == "unknown"


def _changed(name: str, path: tuple[str | int, ...], value: Any) -> Any:
    payload = as_incident(name)
    target = payload
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        pytest.param(["x"], "", id="not-an-object"),
        pytest.param(_changed(CREATED, ("webhookEvent",), KeyError), "/webhookEvent", id="event"),
        pytest.param(_changed(CREATED, ("issue",), KeyError), "/issue", id="issue-missing"),
        pytest.param(_changed(CREATED, ("issue", "fields"), []), "/issue/fields", id="fields"),
        pytest.param(
            _changed(CREATED, ("issue", "fields", "issuetype"), KeyError),
            "/issue/fields/issuetype",
            id="issuetype-missing",
        ),
        pytest.param(
            _changed(CREATED, ("issue", "fields", "issuetype", "name"), None),
            "/issue/fields/issuetype/name",
            id="issuetype-name",
        ),
        pytest.param(_changed(CREATED, ("timestamp",), "now"), "/timestamp", id="timestamp"),
        pytest.param(_changed(CREATED, ("issue", "key"), KeyError), "/issue/key", id="key"),
        pytest.param(_changed(CREATED, ("issue", "id"), 10040), "/issue/id", id="id-number"),
        pytest.param(
            _changed(CREATED, ("issue", "fields", "created"), "Friday"),
            "/issue/fields/created",
            id="created",
        ),
        pytest.param(
            _changed(RESOLVED, ("issue", "fields", "resolutiondate"), "later"),
            "/issue/fields/resolutiondate",
            id="resolutiondate",
        ),
        pytest.param(_changed(RAISED, ("changelog", "items"), {}), "/changelog/items", id="items"),
        pytest.param(
            _changed(RAISED, ("changelog", "items", 0), "priority"),
            "/changelog/items/0",
            id="item-not-an-object",
        ),
        pytest.param(_changed(RAISED, ("changelog",), "x"), "/changelog", id="changelog"),
        pytest.param(_changed(RAISED, ("issue", "key"), "K" * 201), "/issue", id="key-too-long"),
    ],
)
def test_malformed(payload: Any, pointer: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    assert caught.value.pointer == pointer
