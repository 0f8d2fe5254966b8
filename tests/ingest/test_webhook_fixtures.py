"""Every published webhook fixture through the real endpoint, POST /v1/webhooks/{source}.

Each fixture is sent with its exact bytes, signed as its tool signs (GitHub HMAC, GitLab token,
PagerDuty v1 HMAC, a bearer token for Opsgenie, Alertmanager and Jira), to a source whose
service rules map the tool's service to a business service created here. The outcome each
fixture must have was read off the payload by hand and is written below as literal values:
the incident (GET /v1/incidents/{id}), the change (GET /v1/changes/{id}), the commit times
(table commit_time), or the 202 problem answer for a delivery the service does not use.

Times are written as the API returns them: UTC, "Z", microseconds when there are any.
RECEIVED stands for "when the delivery was received": the payload carries no time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from typing import Any

import httpx
import pytest

from service import db as dbmod
from tests.ingest.fixtures import fixture_bytes, shared_fixtures

Json = dict[str, Any]
Headers = dict[str, str]

#: The payload has no time for this value: the service takes the time it received it.
RECEIVED = "<received>"

PROBLEM = "application/problem+json"

#: PagerDuty's published test vector (PROVENANCE.md): this secret signs the priority_updated
#: body as below. The PagerDuty source uses this secret for every PagerDuty fixture.
PAGERDUTY_SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
PAGERDUTY_SIGNED = (
    "pagerduty/v3/incident.priority_updated/go-pagerduty_webhookv3_test_signed_body.json"
)
PAGERDUTY_SIGNATURE = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"

GITLAB_HOOKS = {
    "deployment": "Deployment Hook",
    "pipeline": "Pipeline Hook",
    "merge_request": "Merge Request Hook",
    "push": "Push Hook",
    "job": "Job Hook",
}

# Sources and business services ----------------------------------------------------------------

#: kind -> the source registered for it (POST /v1/sources), one rule per tool service.
SOURCES: dict[str, Json] = {
    "github": {
        "name": "github-acme",
        "kind": "github",
        "secret": "gh-webhook-secret",
        "service_rules": [
            {"match": {"repository": "Codertocat/Hello-World"}, "service": "hello-world"},
            {"match": {"repository": "baxterthehacker/public-repo"}, "service": "public-repo"},
            {"match": {"repository": "Pritesh-30/test-repo"}, "service": "test-repo"},
            {"match": {"repository": "shivamnegi94/testrepo"}, "service": "testrepo"},
            {"match": {"repository": "octo-org/octo-repo"}, "service": "octo-repo"},
        ],
    },
    "gitlab": {
        "name": "gitlab-acme",
        "kind": "gitlab",
        "secret": "gl-webhook-token",
        "service_rules": [
            {
                "match": {"project": "root/test-deployment-webhooks"},
                "service": "deployment-webhooks",
            },
            {"match": {"project": "vedant8600317/test"}, "service": "vedant-test"},
            {"match": {"project": "gitlab-org/gitlab-test"}, "service": "gitlab-test"},
        ],
    },
    "pagerduty": {
        "name": "pagerduty-acme",
        "kind": "pagerduty",
        "secret": PAGERDUTY_SECRET,
        "service_rules": [
            {"match": {"service_id": "PA2P440"}, "service": "pig208"},
            {"match": {"service_id": "PF9KMXH"}, "service": "api-service"},
            {"match": {"service_id": "PN49J75"}, "service": "xdb-cluster"},
        ],
    },
    "opsgenie": {
        "name": "opsgenie-acme",
        "kind": "opsgenie",
        "secret": "og-bearer-token",
        "service_rules": [
            {"match": {"ref": "Server"}, "service": "server"},
            {"match": {"source": "fili@ifountain.com"}, "service": "fili"},
        ],
    },
    "alertmanager": {
        "name": "alertmanager-acme",
        "kind": "alertmanager",
        "secret": "am-bearer-token",
        "service_rules": [
            {"match": {"alertname": "Fire"}, "service": "fire"},
            {"match": {"ref": "docker_nodes"}, "service": "docker-nodes"},
            {"match": {"host": "andromeda"}, "service": "andromeda"},
        ],
    },
    "jira": {
        "name": "jira-acme",
        "kind": "jira",
        "secret": "jira-bearer-token",
        "service_rules": [{"match": {"project": "TES"}, "service": "tes"}],
        "incident_issue_types": ["story", "bug"],
    },
}

# Long values repeated by several fixtures --------------------------------------------------------

HELLO_DEPLOYMENT_URL = "https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746"
HELLO_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
BAXTER_DEPLOYMENT_URL = (
    "https://api.github.com/repos/baxterthehacker/public-repo/deployments/710692"
)
BAXTER_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
FIRE_URL = "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1"
ZULIP_ALERT_URL = (
    "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature%3D~"
    "%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1"
)
JIRA_CLOUD_URL = "https://some-instance-test.atlassian.net/browse/TES-41"
JIRA_SERVER_URL = "http://some-instance-test.centralus.cloudapp.azure.com:8080/browse/TES-4"
OPSGENIE_ALERT = "052652ac-5d1c-464a-812a-7dd18bbfba8c"

# The table: one entry per fixture ----------------------------------------------------------------
#
# "incidents": the incidents of the 200 answer, in its order;  "change": the one change;
# "commits": the commit_time rows (sha, committed_at, repo);  "unmapped": the 202's detail.
# A timeline is the list of (at, what) in the order the API gives it.

CASES: list[Json] = [
    # --- Alertmanager ---------------------------------------------------------------------------
    {
        "fixture": "alertmanager/firing/alertmanager-bot_firing_sh_body.json",
        "incidents": [
            {
                # no fingerprint: "labels-" + sha256 of the sorted label set, 16 hex digits;
                # one incident per firing episode: "@" + its startsAt
                "external_id": "labels-d5e10d7b75435f55@2018-11-04T21:43:58.283995Z",
                "service": "fire",
                "severity": "sev1",  # severity=critical
                "priority": None,
                "status": "open",
                "title": "Fire",  # no summary annotation: the alertname
                "url": FIRE_URL,
                # startsAt 2018-11-04T22:43:58.283995108+01:00
                "started_at": "2018-11-04T21:43:58.283995Z",
                "detected_at": "2018-11-04T21:43:58.283995Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2018-11-04T21:43:58.283995Z", "triggered")],
            }
        ],
    },
    {
        "fixture": "alertmanager/firing/prometheus-msteams_prom_post_request.json",
        "incidents": [
            {
                "external_id": "labels-dcb8f3f3db95181f@2018-03-07T11:33:21.873077Z",
                "service": "docker-nodes",  # job=docker_nodes
                "severity": "sev3",  # severity=warning
                "priority": None,
                "status": "open",
                "title": "Server High Memory usage",
                "url": None,  # no generatorURL
                # startsAt 2018-03-07T06:33:21.873077559-05:00
                "started_at": "2018-03-07T11:33:21.873077Z",
                "detected_at": "2018-03-07T11:33:21.873077Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2018-03-07T11:33:21.873077Z", "triggered")],
            }
        ],
    },
    {
        "fixture": "alertmanager/firing/zulip_alert.json",
        "incidents": [
            {
                "external_id": f"{fingerprint}@2020-02-06T00:17:58.432911Z",
                "service": "andromeda",
                "severity": "sev1",
                "priority": None,
                "status": "open",
                "title": "High CPU core temperature",
                "url": ZULIP_ALERT_URL,
                "started_at": "2020-02-06T00:17:58.432911Z",
                "detected_at": "2020-02-06T00:17:58.432911Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2020-02-06T00:17:58.432911Z", "triggered")],
            }
            for fingerprint in ("a1bc48475b20e73d", "c2ea85182f28cbd9")
        ],
    },
    {
        "fixture": "alertmanager/resolved/alertmanager-bot_resolved_sh_body.json",
        "incidents": [
            {
                "external_id": "labels-d5e10d7b75435f55@2018-11-04T21:43:58.283995Z",
                "service": "fire",
                "severity": "sev1",
                "priority": None,
                "status": "resolved",
                "title": "Fire",
                "url": FIRE_URL,
                "started_at": "2018-11-04T21:43:58.283995Z",  # startsAt
                # never seen firing, but Alertmanager detected it when it fired (startsAt)
                "detected_at": "2018-11-04T21:43:58.283995Z",
                "acknowledged_at": None,
                # endsAt 2018-11-04T22:48:13.283995108+01:00
                "resolved_at": "2018-11-04T21:48:13.283995Z",
                "timeline": [("2018-11-04T21:48:13.283995Z", "resolved")],
            }
        ],
    },
    # --- GitHub: deployments (created: in progress) ---------------------------------------------
    {
        "fixture": "github/deployment/drone-go-scm_deployment_commit.json",
        "change": {
            "external_id": "deployment:87972451",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2018-05-30T20:18:45Z",
            "finished_at": None,
            "commit_sha": "a10867b14bb761a232cd80139fbd4c0d33264240",
            "commit_time": None,
            "url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/87972451",
            "timeline": [("2018-05-30T20:18:45Z", "in_progress")],
        },
    },
    {
        "fixture": "github/deployment/go-playground_deployment.json",
        "change": {
            "external_id": "deployment:710692",
            "service": "public-repo",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2015-05-05T23:40:38Z",
            "finished_at": None,
            "commit_sha": BAXTER_SHA,
            "commit_time": None,
            "url": BAXTER_DEPLOYMENT_URL,
            "timeline": [("2015-05-05T23:40:38Z", "in_progress")],
        },
    },
    {
        "fixture": "github/deployment/octokit_gh-pages_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "github-pages",
            "is_production": False,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2022-01-03T01:28:30Z",
            "finished_at": None,
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,
            "timeline": [("2022-01-03T01:28:30Z", "in_progress")],
        },
    },
    {
        "fixture": "github/deployment/octokit_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2019-05-15T15:20:53Z",
            "finished_at": None,
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,
            "timeline": [("2019-05-15T15:20:53Z", "in_progress")],
        },
    },
    {
        "fixture": "github/deployment/octokit_with-installation_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2019-05-15T15:20:53Z",
            "finished_at": None,
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,
            "timeline": [("2019-05-15T15:20:53Z", "in_progress")],
        },
    },
    {
        # trimmed: the deployment has no created_at
        "fixture": "github/deployment/woodpecker_HookDeploy.json",
        "change": {
            "external_id": "deployment:710692",
            "service": "public-repo",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": RECEIVED,
            "finished_at": None,
            "commit_sha": BAXTER_SHA,
            "commit_time": None,
            "url": BAXTER_DEPLOYMENT_URL,
            "timeline": [(RECEIVED, "in_progress")],
        },
    },
    # --- GitHub: deployment statuses --------------------------------------------------------------
    {
        "fixture": "github/deployment_status/go-playground_deployment-status.json",
        "change": {
            "external_id": "deployment:710692",
            "service": "public-repo",
            "environment": "production",  # null on the status: the deployment's
            "is_production": True,
            "kind": "deploy",
            "status": "success",
            "started_at": "2015-05-05T23:40:38Z",  # deployment.created_at
            "finished_at": "2015-05-05T23:40:39Z",  # deployment_status.updated_at
            "commit_sha": BAXTER_SHA,
            "commit_time": None,
            "url": BAXTER_DEPLOYMENT_URL,  # target_url null
            "timeline": [("2015-05-05T23:40:39Z", "success")],
        },
    },
    {
        "fixture": "github/deployment_status/jx-go-scm_deployment_status.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "success",
            "started_at": "2019-05-15T15:20:53Z",
            "finished_at": "2019-05-15T15:20:55Z",
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,  # target_url ""
            "timeline": [("2019-05-15T15:20:55Z", "success")],
        },
    },
    {
        "fixture": "github/deployment_status/octokit_gh-pages_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "github-pages",
            "is_production": False,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2022-01-03T01:28:30Z",  # deployment.created_at
            "finished_at": None,
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": "https://github.com/Codertocat/Hello-World/runs/145988746?check_suite_focus=true",
            "timeline": [("2022-01-03T01:28:40Z", "in_progress")],
        },
    },
    {
        "fixture": "github/deployment_status/octokit_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "success",
            "started_at": "2019-05-15T15:20:53Z",
            "finished_at": "2019-05-15T15:20:55Z",
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,
            "timeline": [("2019-05-15T15:20:55Z", "success")],
        },
    },
    {
        "fixture": "github/deployment_status/octokit_with-installation_payload.json",
        "change": {
            "external_id": "deployment:145988746",
            "service": "hello-world",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "success",
            "started_at": "2019-05-15T15:20:53Z",
            "finished_at": "2019-05-15T15:20:55Z",
            "commit_sha": HELLO_SHA,
            "commit_time": None,
            "url": HELLO_DEPLOYMENT_URL,
            "timeline": [("2019-05-15T15:20:55Z", "success")],
        },
    },
    {
        "fixture": "github/deployment_status/zulip_deployment_status__error.json",
        "change": {
            "external_id": "deployment:3792439815",
            "service": "test-repo",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "failed",  # state=error
            "started_at": "2026-02-07T19:58:47Z",
            "finished_at": "2026-02-07T20:00:54Z",
            "commit_sha": "c308eeb1271af1f4d072cf79e2b4681f2eb88fbb",
            "commit_time": None,
            "url": "https://api.github.com/repos/Pritesh-30/test-repo/deployments/3792439815",
            "timeline": [("2026-02-07T20:00:54Z", "failed")],
        },
    },
    {
        "fixture": "github/deployment_status/zulip_deployment_status__failure.json",
        "change": {
            "external_id": "deployment:710692",
            "service": "public-repo",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "failed",
            "started_at": "2015-05-05T23:40:38Z",
            "finished_at": "2015-05-05T23:40:39Z",
            "commit_sha": BAXTER_SHA,
            "commit_time": None,
            "url": BAXTER_DEPLOYMENT_URL,
            "timeline": [("2015-05-05T23:40:39Z", "failed")],
        },
    },
    # --- GitHub: pull requests --------------------------------------------------------------------
    {
        "fixture": "github/pull_request/octokit_closed_payload.json",
        "unmapped": "pull request closed without merging",
    },
    {
        "fixture": "github/pull_request/octokit_closed_with-organization_payload.json",
        "unmapped": "pull request closed without merging",
    },
    {
        "fixture": "github/pull_request/woodpecker_HookPullRequestClosed.json",
        "unmapped": "pull request closed without merging",
    },
    {
        "fixture": "github/pull_request/woodpecker_HookPullRequestMerged.json",
        "commits": [
            (
                "473d70eb7c50a54ae62bf9b124efa1c3eb245be8",
                "2023-12-05T18:34:19Z",
                "anbraten/test-ready-release-go",
            )
        ],
    },
    # --- GitHub: pushes ---------------------------------------------------------------------------
    {
        # deletes refs/tags/simple-tag
        "fixture": "github/push/octokit_payload.json",
        "unmapped": "push without commits (tag deleted)",
    },
    {
        "fixture": "github/push/octokit_with-new-branch_payload.json",
        "commits": [
            (
                "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "2019-05-15T15:19:25Z",
                "Codertocat/Hello-World",
            )
        ],
    },
    {
        "fixture": "github/push/octokit_with-no-username-committer_payload.json",
        "commits": [
            (
                "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "2019-05-15T15:19:25Z",
                "Codertocat/Hello-World",
            )
        ],
    },
    {
        "fixture": "github/push/octokit_with-organization_payload.json",
        "unmapped": "push without commits (tag deleted)",
    },
    {
        "fixture": "github/push/woodpecker_HookPush.json",
        "commits": [
            (
                "366701fde727cb7a9e7f21eb88264f59f6f9b89c",
                "2022-01-16T21:57:37Z",  # 2022-01-16T22:57:37+01:00
                "woodpecker-ci/woodpecker",
            )
        ],
    },
    # --- GitHub: workflow runs (pipelines: no environment) ----------------------------------------
    {
        # action in_progress, but workflow_run.status completed, conclusion success
        "fixture": "github/workflow_run/drone-go-scm_pipeline_hook.json",
        "change": {
            "external_id": "workflow_run:14030131450",
            "service": "testrepo",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2025-03-24T08:03:42Z",  # run_started_at
            "finished_at": "2025-03-24T08:03:46Z",  # updated_at
            "commit_sha": "f4229db4b70a8dadeb687f5ccce5fd327c04461a",
            "commit_time": None,
            "url": "https://github.com/shivamnegi94/testrepo/actions/runs/14030131450",
            "timeline": [("2025-03-24T08:03:46Z", "success")],
        },
    },
    {
        "fixture": "github/workflow_run/octokit_completed_payload.json",
        "change": {
            "external_id": "workflow_run:289782451",
            "service": "octo-repo",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2020-10-05T16:33:49Z",
            "finished_at": "2020-10-05T16:33:49Z",
            "commit_sha": "3484a3fb816e0859fd6e1cea078d76385ff50625",
            "commit_time": None,
            "url": "https://github.com/octo-org/octo-repo/actions/runs/289782451",
            "timeline": [("2020-10-05T16:33:49Z", "success")],
        },
    },
    {
        "fixture": "github/workflow_run/octokit_completed_with-pull-requests_payload.json",
        "change": {
            "external_id": "workflow_run:289782451",
            "service": "octo-repo",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2020-10-05T16:33:49Z",
            "finished_at": "2020-10-05T16:33:49Z",
            "commit_sha": "3484a3fb816e0859fd6e1cea078d76385ff50625",
            "commit_time": None,
            "url": "https://github.com/octo-org/octo-repo/actions/runs/289782451",
            "timeline": [("2020-10-05T16:33:49Z", "success")],
        },
    },
    {
        "fixture": "github/workflow_run/octokit_requested_with-conclusion_payload.json",
        "unmapped": (
            "workflow_run conclusion action_required is neither a success, a failure nor a "
            "cancellation"
        ),
    },
    # --- GitLab: deployments ----------------------------------------------------------------------
    {
        # status_changed_at "2021-04-28 21:50:00 +0200"; no running hook: start unknown
        "fixture": "gitlab/deployment/go-gitlab_deployment.json",
        "change": {
            "external_id": "deployment:15",
            "service": "deployment-webhooks",
            "environment": "staging",
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": None,
            "finished_at": "2021-04-28T19:50:00Z",
            "commit_sha": "279484c09fbe69ededfced8c1bb6e6d24616b468",  # end of commit_url
            "commit_time": None,
            "url": "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
            "timeline": [("2021-04-28T19:50:00Z", "success")],
        },
    },
    {
        "fixture": "gitlab/deployment/go-playground_deployment-event.json",
        "change": {
            "external_id": "deployment:15",
            "service": "deployment-webhooks",
            "environment": "staging",
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": None,
            "finished_at": "2021-04-28T19:50:00Z",
            "commit_sha": "279484c09fbe69ededfced8c1bb6e6d24616b468",
            "commit_time": None,
            "url": "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
            "timeline": [("2021-04-28T19:50:00Z", "success")],
        },
    },
    {
        "fixture": "gitlab/deployment/zulip_deployment_hook__canceled.json",
        "change": {
            "external_id": "deployment:988610373",
            "service": "vedant-test",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "canceled",
            "started_at": None,
            "finished_at": "2025-05-02T12:36:52Z",
            "commit_sha": "c3cf29e88c1b0a8a60df37f4687dd5060955d2ae",
            "commit_time": None,
            "url": "https://gitlab.com/vedant8600317/test/-/jobs/9905830127",
            "timeline": [("2025-05-02T12:36:52Z", "canceled")],
        },
    },
    {
        "fixture": "gitlab/deployment/zulip_deployment_hook__failed.json",
        "change": {
            "external_id": "deployment:988604916",
            "service": "vedant-test",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "failed",
            "started_at": None,
            "finished_at": "2025-05-02T12:30:19Z",
            "commit_sha": "846d8de0b7b3d694954249d2fd5d87fbe8c84e4c",
            "commit_time": None,
            "url": "https://gitlab.com/vedant8600317/test/-/jobs/9905759933",
            "timeline": [("2025-05-02T12:30:19Z", "failed")],
        },
    },
    {
        "fixture": "gitlab/deployment/zulip_deployment_hook__running.json",
        "change": {
            "external_id": "deployment:988572802",
            "service": "vedant-test",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "in_progress",
            "started_at": "2025-05-02T11:54:46Z",
            "finished_at": None,
            "commit_sha": "58793660b22d6ceacbdc23b28a0562bca339702c",
            "commit_time": None,
            "url": "https://gitlab.com/vedant8600317/test/-/jobs/9905389091",
            "timeline": [("2025-05-02T11:54:46Z", "in_progress")],
        },
    },
    {
        "fixture": "gitlab/deployment/zulip_deployment_hook__succeeded.json",
        "change": {
            "external_id": "deployment:988572802",
            "service": "vedant-test",
            "environment": "production",
            "is_production": True,
            "kind": "deploy",
            "status": "success",
            "started_at": None,
            "finished_at": "2025-05-02T11:55:16Z",
            "commit_sha": "58793660b22d6ceacbdc23b28a0562bca339702c",
            "commit_time": None,
            "url": "https://gitlab.com/vedant8600317/test/-/jobs/9905389091",
            "timeline": [("2025-05-02T11:55:16Z", "success")],
        },
    },
    # --- GitLab: job, merge requests, pipelines, pushes -------------------------------------------
    {
        "fixture": "gitlab/job/go-gitlab_job.json",
        "unmapped": "GitLab event Job Hook is not used",
    },
    {
        # merged_at absent: the merge commit at updated_at "2017-12-10 17:08:07 UTC"
        "fixture": "gitlab/merge_request/drone-go-scm_pull_request_merge.json",
        "commits": [
            (
                "78a76ee6b4992a6baf64c59fc4c44c7323d60438",
                "2017-12-10T17:08:07Z",
                "gitlab-org/hello-world",
            ),
            (
                "c4c79227ed610f1151f05bbc5be33b4f340d39c8",
                "2017-12-10T16:28:36Z",  # last_commit 2017-12-10T08:28:36-08:00
                "gitlab-org/hello-world",
            ),
        ],
    },
    {
        # a group hook: neither merged_at nor updated_at for the merge commit
        "fixture": "gitlab/merge_request/go-gitlab_group_merge_request.json",
        "commits": [
            (
                "61b6a0d35dbaf915760233b637622e383d3cc9ec",
                "2016-12-01T13:07:53Z",  # last_commit 2016-12-01T15:07:53+02:00
                "exm-namespace/example-project",
            ),
            ("ac3ca1559bc39abf963586372eff7f8fdded646e", RECEIVED, "exm-namespace/example-project"),
        ],
    },
    {
        "fixture": "gitlab/merge_request/go-gitlab_merge_request.json",
        "unmapped": "merge request action open is not used",
    },
    {
        "fixture": "gitlab/merge_request/go-playground_merge-request-event.json",
        "unmapped": "merge request action open is not used",
    },
    {
        "fixture": "gitlab/merge_request/woodpecker_HookPullRequestClosed.json",
        "unmapped": "merge request action close is not used",
    },
    {
        "fixture": "gitlab/merge_request/woodpecker_HookPullRequestMerged.json",
        "commits": [
            (
                "3e4db3586b65dd401de8c77b3ac343fd24cbf89b",
                "2023-12-05T18:39:57Z",
                "anbraten/woodpecker-test",
            ),
            (
                "43411b53d670203e887c4985c4e58e8e6b7c109e",
                "2023-12-05T18:43:00Z",  # updated_at "2023-12-05 18:43:00 UTC"
                "anbraten/woodpecker-test",
            ),
        ],
    },
    {
        "fixture": "gitlab/pipeline/drone-go-scm_pipeline_hook.json",
        "change": {
            "external_id": "pipeline:31",
            "service": "gitlab-test",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2016-08-12T15:23:28Z",  # "2016-08-12 15:23:28 UTC"
            "finished_at": "2016-08-12T15:26:29Z",
            "commit_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "commit_time": None,
            "url": "http://example.com/gitlab-org/gitlab-test/-/pipelines/31",
            "timeline": [("2016-08-12T15:26:29Z", "success")],
        },
    },
    {
        "fixture": "gitlab/pipeline/go-gitlab_pipeline.json",
        "change": {
            "external_id": "pipeline:31",
            "service": "gitlab-test",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2016-08-12T15:23:28Z",
            "finished_at": "2016-08-12T15:26:29Z",
            "commit_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "commit_time": None,
            "url": None,  # this variant has no url
            "timeline": [("2016-08-12T15:26:29Z", "success")],
        },
    },
    {
        "fixture": "gitlab/pipeline/go-playground_pipeline-event.json",
        "change": {
            "external_id": "pipeline:31",
            "service": "gitlab-test",
            "environment": None,
            "is_production": False,
            "kind": "deploy",
            "status": "success",
            "started_at": "2016-08-12T15:23:28Z",
            "finished_at": "2016-08-12T15:26:29Z",
            "commit_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "commit_time": None,
            "url": "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31",
            "timeline": [("2016-08-12T15:26:29Z", "success")],
        },
    },
    {
        "fixture": "gitlab/push/go-gitlab_push.json",
        "commits": [
            (
                "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
                "2011-12-12T12:27:31Z",  # 2011-12-12T14:27:31+02:00
                "mike/diaspora",
            ),
            (
                "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                "2012-01-03T21:36:29Z",  # 2012-01-03T23:36:29+02:00
                "mike/diaspora",
            ),
        ],
    },
    {
        "fixture": "gitlab/push/woodpecker_HookPush.json",
        "commits": [
            ("16862e368d8ab812e48833b741dad720d6e2cb7f", "2021-09-27T04:46:14Z", "test/woodpecker")
        ],
    },
    # --- Jira (Story and Bug are incident types for this source) ----------------------------------
    {
        # timestamp 1550286113023; fields.created 2019-02-15T19:01:52.971-0800
        "fixture": "jira/jira_issue_created/mattermost_webhook-issue-created.json",
        "incidents": [
            {
                "external_id": "TES-41",
                "service": "tes",
                "severity": "sev2",  # priority High
                "priority": "High",
                "status": "open",
                "title": "Unit test summary",
                "url": JIRA_CLOUD_URL,
                "started_at": "2019-02-16T03:01:52.971000Z",
                "detected_at": "2019-02-16T03:01:52.971000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2019-02-16T03:01:53.023000Z", "triggered")],
            }
        ],
    },
    {
        # priority Low -> High; timestamp 1550351716080
        "fixture": "jira/jira_issue_updated/mattermost_webhook-issue-updated-raised-priority.json",
        "incidents": [
            {
                "external_id": "TES-41",
                "service": "tes",
                "severity": "sev2",
                "priority": "High",
                "status": "open",
                "title": "Unit test summary 1",
                "url": JIRA_CLOUD_URL,
                "started_at": "2019-02-16T03:01:52.971000Z",
                "detected_at": "2019-02-16T03:01:52.971000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2019-02-16T21:15:16.080000Z", "updated")],
            }
        ],
    },
    {
        # resolution Done -> none, status Done -> To Do; timestamp 1550287026531
        "fixture": "jira/jira_issue_updated/mattermost_webhook-issue-updated-reopened.json",
        "incidents": [
            {
                "external_id": "TES-41",
                "service": "tes",
                "severity": "sev2",
                "priority": "High",
                "status": "open",
                "title": "Unit test summary 1",
                "url": JIRA_CLOUD_URL,
                "started_at": "2019-02-16T03:01:52.971000Z",
                "detected_at": "2019-02-16T03:01:52.971000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2019-02-16T03:17:06.531000Z", "reopened")],
            }
        ],
    },
    {
        # In Progress -> Done; fields.resolutiondate 2019-02-15T19:15:40.470-0800
        "fixture": "jira/jira_issue_updated/mattermost_webhook-issue-updated-resolved.json",
        "incidents": [
            {
                "external_id": "TES-41",
                "service": "tes",
                "severity": "sev2",
                "priority": "High",
                "status": "resolved",
                "title": "Unit test summary 1",
                "url": JIRA_CLOUD_URL,
                "started_at": "2019-02-16T03:01:52.971000Z",
                "detected_at": "2019-02-16T03:01:52.971000Z",
                "acknowledged_at": None,
                "resolved_at": "2019-02-16T03:15:40.470000Z",
                "timeline": [("2019-02-16T03:15:40.470000Z", "resolved")],
            }
        ],
    },
    {
        # Jira Server, Resolved -> Closed (done); fields.resolutiondate
        # 2019-08-14T11:03:02.179+0800; fields.created 2019-08-13T06:14:23.580+0800
        "fixture": "jira/jira_issue_updated/mattermost_webhook-server-issue-updated-closed.json",
        "incidents": [
            {
                "external_id": "TES-4",
                "service": "tes",
                "severity": "sev3",  # priority Medium
                "priority": "Medium",
                "status": "resolved",
                "title": "Unit test summary 1",
                "url": JIRA_SERVER_URL,
                "started_at": "2019-08-12T22:14:23.580000Z",
                "detected_at": "2019-08-12T22:14:23.580000Z",
                "acknowledged_at": None,
                "resolved_at": "2019-08-14T03:03:02.179000Z",
                "timeline": [("2019-08-14T03:03:02.179000Z", "resolved")],
            }
        ],
    },
    {
        # Jira Server, In Progress -> Resolved; fields.resolutiondate 2019-08-13T07:23:01.890+0800
        "fixture": "jira/jira_issue_updated/mattermost_webhook-server-issue-updated-resolved.json",
        "incidents": [
            {
                "external_id": "TES-4",
                "service": "tes",
                "severity": "sev3",
                "priority": "Medium",
                "status": "resolved",
                "title": "Unit test summary 1",
                "url": JIRA_SERVER_URL,
                "started_at": "2019-08-12T22:14:23.580000Z",
                "detected_at": "2019-08-12T22:14:23.580000Z",
                "acknowledged_at": None,
                "resolved_at": "2019-08-12T23:23:01.890000Z",
                "timeline": [("2019-08-12T23:23:01.890000Z", "resolved")],
            }
        ],
    },
    # --- Opsgenie ---------------------------------------------------------------------------------
    {
        # updatedAt 1420452224764002246 ns; createdAt 1420452191104 ms; entity "", no teams
        "fixture": "opsgenie/Acknowledge/zulip_acknowledge.json",
        "incidents": [
            {
                "external_id": OPSGENIE_ALERT,
                "service": "fili",  # source fili@ifountain.com
                "severity": None,
                "priority": None,
                "status": "acknowledged",
                "title": "test alert",
                "url": None,
                "started_at": "2015-01-05T10:03:11.104000Z",
                "detected_at": "2015-01-05T10:03:11.104000Z",
                "acknowledged_at": "2015-01-05T10:03:44.764002Z",
                "resolved_at": None,
                "timeline": [("2015-01-05T10:03:44.764002Z", "acknowledged")],
            }
        ],
    },
    {
        # updatedAt 1420452374669001603 ns
        "fixture": "opsgenie/Close/zulip_close.json",
        "incidents": [
            {
                "external_id": OPSGENIE_ALERT,
                "service": "fili",
                "severity": None,
                "priority": None,
                "status": "resolved",
                "title": "test alert",
                "url": None,
                "started_at": "2015-01-05T10:03:11.104000Z",
                "detected_at": "2015-01-05T10:03:11.104000Z",
                "acknowledged_at": None,
                "resolved_at": "2015-01-05T10:06:14.669001Z",
                "timeline": [("2015-01-05T10:06:14.669001Z", "resolved")],
            }
        ],
    },
    {
        # createdAt 1502709956288 ms; entity "Server"; priority 3
        "fixture": "opsgenie/Create/zulip_create.json",
        "incidents": [
            {
                "external_id": "ec03dad6-62c8-4c94-b38b-d88f398e900f",
                "service": "server",
                "severity": "sev3",
                "priority": "P3",
                "status": "open",
                "title": "another alert",
                "url": None,
                "started_at": "2017-08-14T11:25:56.288000Z",
                "detected_at": "2017-08-14T11:25:56.288000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2017-08-14T11:25:56.288000Z", "triggered")],
            }
        ],
    },
    # --- PagerDuty --------------------------------------------------------------------------------
    {
        # v2: created_on and incident.created_at 2017-09-26T15:14:36Z; urgency high
        "fixture": "pagerduty/v2/incident.trigger/go-pagerduty_webhook_test_payload.json",
        "incidents": [
            {
                "external_id": "PRORDTY",
                "service": "xdb-cluster",
                "severity": "sev2",
                "priority": None,
                "status": "open",
                "title": "My new incident",
                "url": "https://webdemo.pagerduty.com/incidents/PRORDTY",
                "started_at": "2017-09-26T15:14:36Z",
                "detected_at": "2017-09-26T15:14:36Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2017-09-26T15:14:36Z", "triggered")],
            }
        ],
    },
    {
        "fixture": "pagerduty/v3/incident.acknowledged/zulip_acknowledged_v3.json",
        "incidents": [
            {
                "external_id": "PQ1K5C8",
                "service": "pig208",
                "severity": "sev2",  # no priority; urgency high
                "priority": None,
                "status": "acknowledged",
                "title": "Test Incident",
                "url": "https://pig208.pagerduty.com/incidents/PQ1K5C8",
                # v3 data has no created_at: detected when first heard of
                "started_at": "2021-06-04T13:55:30.394000Z",
                "detected_at": "2021-06-04T13:55:30.394000Z",
                "acknowledged_at": "2021-06-04T13:55:30.394000Z",
                "resolved_at": None,
                "timeline": [("2021-06-04T13:55:30.394000Z", "acknowledged")],
            }
        ],
    },
    {
        "fixture": PAGERDUTY_SIGNED,
        "incidents": [
            {
                "external_id": "PGR0VU2",
                "service": "api-service",
                "severity": "sev1",  # priority P1
                "priority": "P1",
                "status": "open",
                "title": "A little bump in the road",
                "url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "started_at": "2021-04-26T17:36:27.458000Z",
                "detected_at": "2021-04-26T17:36:27.458000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2021-04-26T17:36:27.458000Z", "updated")],
            }
        ],
    },
    {
        "fixture": "pagerduty/v3/incident.resolved/zulip_resolved_v3.json",
        "incidents": [
            {
                "external_id": "PCPZE64",
                "service": "pig208",
                "severity": "sev2",
                "priority": None,
                "status": "resolved",
                "title": "Test Incident",
                "url": "https://pig208.pagerduty.com/incidents/PCPZE64",
                "started_at": "2021-06-04T13:16:53.816000Z",
                "detected_at": "2021-06-04T13:16:53.816000Z",
                "acknowledged_at": None,
                "resolved_at": "2021-06-04T13:16:53.816000Z",
                "timeline": [("2021-06-04T13:16:53.816000Z", "resolved")],
            }
        ],
    },
    {
        "fixture": "pagerduty/v3/incident.triggered/zulip_triggered_v3.json",
        "incidents": [
            {
                "external_id": "PFQZPSY",
                "service": "pig208",
                "severity": "sev2",
                "priority": None,
                "status": "open",
                "title": "Test Incident 3",
                "url": "https://pig208.pagerduty.com/incidents/PFQZPSY",
                "started_at": "2021-06-04T13:35:29.781000Z",
                "detected_at": "2021-06-04T13:35:29.781000Z",
                "acknowledged_at": None,
                "resolved_at": None,
                "timeline": [("2021-06-04T13:35:29.781000Z", "triggered")],
            }
        ],
    },
]

BY_FIXTURE: dict[str, Json] = {case["fixture"]: case for case in CASES}

INCIDENT_FIELDS = (
    "external_id", "service", "severity", "priority", "status", "title", "url", "started_at",
    "detected_at", "acknowledged_at", "resolved_at",
)  # fmt: skip
CHANGE_FIELDS = (
    "external_id", "service", "environment", "is_production", "kind", "status", "started_at",
    "finished_at", "commit_sha", "commit_time", "url",
)  # fmt: skip


# Helpers ----------------------------------------------------------------------------------------


def kind_of(relative: str) -> str:
    return relative.split("/")[0]


def iso(value: dt.datetime) -> str:
    """A time as the API writes it: UTC with a "Z"."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(relative: str, body: bytes) -> Headers:
    """The headers the tool sends, with a valid signature or token for SOURCES' secret."""
    kind, event = kind_of(relative), relative.split("/")[1]
    secret = SOURCES[kind]["secret"]
    headers = {"Content-Type": "application/json"}
    if kind == "github":
        headers |= {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid5(uuid.NAMESPACE_URL, relative)),
            "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body),
            "User-Agent": "GitHub-Hookshot/044aadd",
        }
    elif kind == "gitlab":
        headers |= {
            "X-Gitlab-Event": GITLAB_HOOKS[event],
            "X-Gitlab-Token": secret,
            "X-Gitlab-Event-UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, relative)),
        }
    elif kind == "pagerduty":
        headers["X-PagerDuty-Signature"] = "v1=" + hmac_hex(secret, body)
    else:
        headers["Authorization"] = f"Bearer {secret}"
    return headers


async def register(client: httpx.AsyncClient, admin: Headers, kind: str) -> None:
    """The business services the kind's rules name, then its source."""
    source = SOURCES[kind]
    for slug in dict.fromkeys(rule["service"] for rule in source["service_rules"]):
        body = {"slug": slug, "name": f"Service {slug}", "tier": 2}
        resp = await client.post("/v1/services", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
    resp = await client.post("/v1/sources", json=source, headers=admin)
    assert resp.status_code == 201, resp.text


async def deliver(client: httpx.AsyncClient, relative: str) -> httpx.Response:
    body = fixture_bytes(relative)
    name = SOURCES[kind_of(relative)]["name"]
    return await client.post(
        f"/v1/webhooks/{name}", content=body, headers=signed_headers(relative, body)
    )


def settle(expected: Any, got: Any, window: tuple[dt.datetime, dt.datetime]) -> Any:
    """`expected` with each RECEIVED replaced by what was got, once that is checked to be a
    time within the window the delivery was posted in."""
    if isinstance(expected, str) and expected == RECEIVED:
        assert isinstance(got, str), got
        assert window[0] <= parse_iso(got) <= window[1], (got, window)
        return got
    if isinstance(expected, dict) and isinstance(got, dict):
        return {k: settle(v, got.get(k), window) for k, v in expected.items()}
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        if len(expected) != len(got):
            return expected
        settled = [settle(e, g, window) for e, g in zip(expected, got, strict=True)]
        return type(expected)(settled)
    return expected


async def incident_record(client: httpx.AsyncClient, reader: Headers, incident_id: int) -> Json:
    resp = await client.get(f"/v1/incidents/{incident_id}", headers=reader)
    assert resp.status_code == 200, resp.text
    body: Json = resp.json()
    return body


async def change_record(client: httpx.AsyncClient, reader: Headers, change_id: int) -> Json:
    resp = await client.get(f"/v1/changes/{change_id}", headers=reader)
    assert resp.status_code == 200, resp.text
    body: Json = resp.json()
    return body


def incident_view(body: Json) -> Json:
    view = {name: body[name] for name in INCIDENT_FIELDS}
    view["timeline"] = [(entry["at"], entry["what"]) for entry in body["timeline"]]
    return view


def change_view(body: Json) -> Json:
    view = {name: body[name] for name in CHANGE_FIELDS}
    view["timeline"] = [(entry["at"], entry["what"]) for entry in body["timeline"]]
    return view


async def delivery_row(con: dbmod.Connection, delivery_id: int) -> tuple[str, str | None]:
    row = await con.fetchrow("select status, detail from delivery where id = $1", delivery_id)
    assert row is not None, delivery_id
    return row["status"], row["detail"]


async def commit_rows(con: dbmod.Connection) -> list[tuple[str, str, str | None]]:
    rows = await con.fetch("select sha, committed_at, repo from commit_time order by sha")
    return [(r["sha"], iso(r["committed_at"]), r["repo"]) for r in rows]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Tests ------------------------------------------------------------------------------------------


def test_the_table_covers_every_fixture_once() -> None:
    fixtures = [case["fixture"] for case in CASES]
    assert len(fixtures) == len(set(fixtures)) == 62
    # Sources added since have their own end-to-end tests (tests/ingest/sources/<kind>/).
    assert sorted(fixtures) == [f for f in shared_fixtures() if kind_of(f) in SOURCES]
    outcomes = {"incidents", "change", "commits", "unmapped"}
    assert all(len(outcomes & set(case)) == 1 for case in CASES)


def test_pagerduty_published_test_vector_is_what_is_sent() -> None:
    """The signature computed here for PagerDuty is the one PagerDuty published."""
    body = fixture_bytes(PAGERDUTY_SIGNED)
    assert signed_headers(PAGERDUTY_SIGNED, body)["X-PagerDuty-Signature"] == PAGERDUTY_SIGNATURE


@pytest.mark.parametrize("case", CASES, ids=[case["fixture"] for case in CASES])
async def test_fixture_through_the_webhook_endpoint(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers, case: Json
) -> None:
    relative = case["fixture"]
    await register(client, admin, kind_of(relative))
    before = now()
    resp = await deliver(client, relative)
    window = (before, now())

    if "unmapped" in case:
        assert resp.status_code == 202, resp.text
        assert resp.headers["content-type"].startswith(PROBLEM)
        problem = resp.json()
        assert problem == {
            "type": "https://kpi.example/problems/unmapped",
            "title": "Accepted but not mapped",
            "status": 202,
            "detail": case["unmapped"],
            "delivery_id": problem["delivery_id"],
        }
        assert await delivery_row(con, problem["delivery_id"]) == ("unmapped", case["unmapped"])
        assert await commit_rows(con) == []
        return

    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    outcome = resp.json()
    delivery_id = outcome["delivery_id"]
    assert outcome["status"] == "applied"
    assert outcome["detail"] is None
    assert await delivery_row(con, delivery_id) == ("applied", None)
    source = SOURCES[kind_of(relative)]["name"]

    if "incidents" in case:
        expected = case["incidents"]
        assert (len(outcome["incidents"]), outcome["changes"], outcome["commits"]) == (
            len(expected),
            [],
            0,
        )
        got = []
        for incident_id in outcome["incidents"]:
            body = await incident_record(client, reader, incident_id)
            assert body["id"] == incident_id
            assert body["source"] == source
            assert {entry["delivery_id"] for entry in body["timeline"]} == {delivery_id}
            got.append(incident_view(body))
        assert got == settle(expected, got, window)
    elif "change" in case:
        assert (outcome["incidents"], len(outcome["changes"]), outcome["commits"]) == ([], 1, 0)
        body = await change_record(client, reader, outcome["changes"][0])
        assert body["source"] == source
        assert body["incidents"] == []
        assert {entry["delivery_id"] for entry in body["timeline"]} == {delivery_id}
        got_change = change_view(body)
        assert got_change == settle(case["change"], got_change, window)
    else:
        expected_commits = case["commits"]
        assert (outcome["incidents"], outcome["changes"], outcome["commits"]) == (
            [],
            [],
            len(expected_commits),
        )
        rows = await commit_rows(con)
        assert rows == settle(expected_commits, rows, window)


# Fixtures about the same incident or change -----------------------------------------------------

GITLAB_RUNNING = "gitlab/deployment/zulip_deployment_hook__running.json"
GITLAB_SUCCEEDED = "gitlab/deployment/zulip_deployment_hook__succeeded.json"


@pytest.mark.parametrize(
    "order",
    [(GITLAB_RUNNING, GITLAB_SUCCEEDED), (GITLAB_SUCCEEDED, GITLAB_RUNNING)],
    ids=["running-first", "succeeded-first"],
)
async def test_gitlab_running_and_succeeded_deployment_in_either_order(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, order: tuple[str, str]
) -> None:
    await register(client, admin, "gitlab")
    outcomes = []
    for relative in order:
        resp = await deliver(client, relative)
        assert resp.status_code == 200, resp.text
        outcomes.append(resp.json())
    [first], [second] = (o["changes"] for o in outcomes)
    assert first == second  # deployment_id 988572802 in both
    assert change_view(await change_record(client, reader, first)) == {
        "external_id": "deployment:988572802",
        "service": "vedant-test",
        "environment": "production",
        "is_production": True,
        "kind": "deploy",
        "status": "success",
        "started_at": "2025-05-02T11:54:46Z",  # running's status_changed_at
        "finished_at": "2025-05-02T11:55:16Z",  # success's, 30 s later
        "commit_sha": "58793660b22d6ceacbdc23b28a0562bca339702c",
        "commit_time": None,
        "url": "https://gitlab.com/vedant8600317/test/-/jobs/9905389091",
        "timeline": [("2025-05-02T11:54:46Z", "in_progress"), ("2025-05-02T11:55:16Z", "success")],
    }


ALERT_FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"
ALERT_RESOLVED = "alertmanager/resolved/alertmanager-bot_resolved_sh_body.json"


async def test_alertmanager_firing_then_resolved_is_one_resolved_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin, "alertmanager")
    ids = []
    for relative in (ALERT_FIRING, ALERT_RESOLVED):
        resp = await deliver(client, relative)
        assert resp.status_code == 200, resp.text
        ids.append(resp.json()["incidents"])
    [first], [second] = ids
    assert first == second
    assert incident_view(await incident_record(client, reader, first)) == {
        "external_id": "labels-d5e10d7b75435f55@2018-11-04T21:43:58.283995Z",
        "service": "fire",
        "severity": "sev1",
        "priority": None,
        "status": "resolved",
        "title": "Fire",
        "url": FIRE_URL,
        "started_at": "2018-11-04T21:43:58.283995Z",  # startsAt
        "detected_at": "2018-11-04T21:43:58.283995Z",
        "acknowledged_at": None,
        "resolved_at": "2018-11-04T21:48:13.283995Z",  # the resolved notification's endsAt
        "timeline": [
            ("2018-11-04T21:43:58.283995Z", "triggered"),
            ("2018-11-04T21:48:13.283995Z", "resolved"),
        ],
    }


OPSGENIE_CREATE = "opsgenie/Create/zulip_create.json"
OPSGENIE_ACK = "opsgenie/Acknowledge/zulip_acknowledge.json"
OPSGENIE_CLOSE = "opsgenie/Close/zulip_close.json"


async def test_opsgenie_create_acknowledge_close(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """Acknowledge and Close share alertId 052652ac-...; Create is another alert (ec03dad6-...):
    two incidents, the first acknowledged then closed, the second only created."""
    await register(client, admin, "opsgenie")
    ids = {}
    for relative in (OPSGENIE_CREATE, OPSGENIE_ACK, OPSGENIE_CLOSE):
        resp = await deliver(client, relative)
        assert resp.status_code == 200, resp.text
        [ids[relative]] = resp.json()["incidents"]
    assert ids[OPSGENIE_ACK] == ids[OPSGENIE_CLOSE] != ids[OPSGENIE_CREATE]
    assert incident_view(await incident_record(client, reader, ids[OPSGENIE_CLOSE])) == {
        "external_id": OPSGENIE_ALERT,
        "service": "fili",
        "severity": None,
        "priority": None,
        "status": "resolved",
        "title": "test alert",
        "url": None,
        "started_at": "2015-01-05T10:03:11.104000Z",  # createdAt
        "detected_at": "2015-01-05T10:03:11.104000Z",
        "acknowledged_at": "2015-01-05T10:03:44.764002Z",
        "resolved_at": "2015-01-05T10:06:14.669001Z",
        "timeline": [
            ("2015-01-05T10:03:44.764002Z", "acknowledged"),
            ("2015-01-05T10:06:14.669001Z", "resolved"),
        ],
    }
    created = incident_view(await incident_record(client, reader, ids[OPSGENIE_CREATE]))
    assert created == BY_FIXTURE[OPSGENIE_CREATE]["incidents"][0]


PAGERDUTY_V3 = [
    "pagerduty/v3/incident.triggered/zulip_triggered_v3.json",
    "pagerduty/v3/incident.acknowledged/zulip_acknowledged_v3.json",
    "pagerduty/v3/incident.resolved/zulip_resolved_v3.json",
]


async def test_pagerduty_v3_triggered_acknowledged_resolved_are_three_incidents(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """The three captures name three incidents (PFQZPSY, PQ1K5C8, PCPZE64) of one service:
    posted together, each stays as it was posted alone."""
    await register(client, admin, "pagerduty")
    ids = []
    for relative in PAGERDUTY_V3:
        resp = await deliver(client, relative)
        assert resp.status_code == 200, resp.text
        ids.extend(resp.json()["incidents"])
    assert len(set(ids)) == 3
    for relative, incident_id in zip(PAGERDUTY_V3, ids, strict=True):
        got = incident_view(await incident_record(client, reader, incident_id))
        assert got == BY_FIXTURE[relative]["incidents"][0]


async def test_github_deployment_then_its_status_is_one_change(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """octokit's deployment 145988746 (created 15:20:53) and its success status (15:20:55)."""
    await register(client, admin, "github")
    changes = []
    for relative in (
        "github/deployment_status/octokit_payload.json",
        "github/deployment/octokit_payload.json",
    ):
        resp = await deliver(client, relative)
        assert resp.status_code == 200, resp.text
        changes.extend(resp.json()["changes"])
    assert changes[0] == changes[1]
    assert change_view(await change_record(client, reader, changes[0])) == {
        "external_id": "deployment:145988746",
        "service": "hello-world",
        "environment": "production",
        "is_production": True,
        "kind": "deploy",
        "status": "success",
        "started_at": "2019-05-15T15:20:53Z",
        "finished_at": "2019-05-15T15:20:55Z",
        "commit_sha": HELLO_SHA,
        "commit_time": None,
        "url": HELLO_DEPLOYMENT_URL,
        "timeline": [("2019-05-15T15:20:53Z", "in_progress"), ("2019-05-15T15:20:55Z", "success")],
    }
