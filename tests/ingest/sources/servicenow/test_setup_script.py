"""The business rule of the ServiceNow setup (service/ingest/sources/servicenow/setup.md, and
the README section `kpi export` copies it into) is valid JavaScript, and run under Node with a
stub incident record it posts exactly the fixtures' bodies, to the configured URL, with the
source's secret as a bearer token. Node is required: without it these tests fail."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.cli.common import REPO_ROOT
from tests.ingest.fixtures import all_fixtures, fixture

SETUP = REPO_ROOT / "service" / "ingest" / "sources" / "servicenow" / "setup.md"
BLOCK = re.compile(r"^```javascript\n(.*?)^```$", re.DOTALL | re.MULTILINE)
REFERENCES = ("business_service", "cmdb_ci", "assignment_group")

#: Stubs of what a business rule sees (`current`, `gs`, `sn_ws`); the rule is run with them
#: and what it sent is printed as JSON.
HARNESS = """
const fs = require('fs');
const script = fs.readFileSync(process.argv[2], 'utf8');
const record = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const properties = {
  'glide.servlet.uri': 'https://example-shop.service-now.com/',
  'x_kpi.webhook_url': 'https://kpi.example/v1/webhooks/servicenow',
  'x_kpi.webhook_secret': 'sn-secret',
};
const current = {
  getValue: (name) => (name in record.values ? record.values[name] : null),
  getDisplayValue: (name) => record.display[name] || '',
  getLink: () => 'incident.do?sys_id=' + record.values.sys_id,
};
const sent = {headers: {}, executed: 0};
function RESTMessageV2() {}
RESTMessageV2.prototype.setEndpoint = function (url) { sent.endpoint = url; };
RESTMessageV2.prototype.setHttpMethod = function (method) { sent.method = method; };
RESTMessageV2.prototype.setRequestHeader = function (name, value) { sent.headers[name] = value; };
RESTMessageV2.prototype.setRequestBody = function (body) { sent.body = body; };
RESTMessageV2.prototype.executeAsync = function () { sent.executed += 1; };
const gs = {getProperty: (name) => properties[name]};
new Function('current', 'previous', 'gs', 'sn_ws', script)(current, null, gs, {RESTMessageV2});
process.stdout.write(JSON.stringify(sent));
"""


def script_in(text: str) -> str:
    [script] = BLOCK.findall(text)
    return str(script)


def node() -> str:
    found = shutil.which("node")
    assert found is not None, "node is needed to check the ServiceNow business rule"
    return found


@pytest.fixture
def script_file(tmp_path: Path) -> Path:
    path = tmp_path / "business_rule.js"
    path.write_text(script_in(SETUP.read_text()))
    return path


def test_the_business_rule_is_valid_javascript(script_file: Path) -> None:
    checked = subprocess.run([node(), "--check", str(script_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    broken = script_file.with_name("broken.js")
    broken.write_text(script_file.read_text().replace("request.executeAsync();", "request.(;"))
    assert subprocess.run([node(), "--check", str(broken)], capture_output=True).returncode != 0


def test_the_readme_carries_the_same_business_rule() -> None:
    assert script_in(SETUP.read_text()) in (REPO_ROOT / "README.md").read_text()


def run_rule(script_file: Path, values: dict[str, Any], display: dict[str, str]) -> Any:
    record = script_file.with_name("record.json")
    record.write_text(json.dumps({"values": values, "display": display}))
    harness = script_file.with_name("harness.js")
    harness.write_text(HARNESS)
    ran = subprocess.run(
        [node(), str(harness), str(script_file), str(record)], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.mark.parametrize("name", [f for f in all_fixtures() if f.startswith("servicenow/")])
def test_the_rule_posts_the_fixture_bodies(script_file: Path, name: str) -> None:
    body = fixture(name)
    # The record: every field's value (empty ones are null, as getValue gives them), the
    # references' display values; the stub makes the record's link from its sys_id.
    values = {k: v for k, v in body.items() if k not in (*REFERENCES, "url")}
    values |= {"business_service": "a1f0...", "cmdb_ci": "b2e1...", "assignment_group": "c3d2..."}
    display = {k: body[k] for k in REFERENCES}
    sent = run_rule(script_file, values, display)
    assert sent == {
        "endpoint": "https://kpi.example/v1/webhooks/servicenow",
        "method": "post",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer sn-secret"},
        "body": sent["body"],
        "executed": 1,
    }
    assert json.loads(sent["body"]) == body
