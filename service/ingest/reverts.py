"""Reverts: a merged pull or merge request that undoes earlier work.

What it reverts is read from its title and description, as git and the forges write them:
`This reverts commit <sha>.` (git revert's message), `Reverts owner/repo#N` (GitHub's Revert
button), `This reverts merge request !N` (GitLab's). The commits the request merged are then
marked: each names the request it came from (so a later revert of that request finds them)
and what it reverts, with the reason shown on the change that shipped the reverted work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import Field

from service.ingest.jsonread import Node, is_int
from service.ingest.model import Mapped
from service.models.catalog import Body
from service.models.events import CommitRecord

_COMMIT = re.compile(r"\bThis reverts commit ([0-9a-fA-F]{7,64})\b")
#: The longest reason kept, and the most targets (CommitRecord.revert_reason, reverts).
MAX_REASON = 300
MAX_REVERTS = 50


class RevertOptions(Body):
    """The setting of a forge's source (GitHub, GitLab) about reverts."""

    reverts_are_failures: bool = Field(
        default=True,
        description='Whether a merged request that reverts earlier work ("This reverts '
        'commit <sha>", "Reverts owner/repo#N", GitLab\'s "This reverts merge request '
        '!N") counts the production change that shipped the reverted commit as failed, and '
        "the change that ships the revert as rework.",
    )


@dataclass(frozen=True)
class Forge:
    """Where a forge's merged-request hook says what the request is and what it reverts."""

    #: The request's number ("number", GitHub; "iid", GitLab) and its text ("body",
    #: "description"), members of the request's object.
    number: str
    text: str
    #: Between repository and number in a ref: "#" (owner/repo#12), "!" (group/project!12).
    mark: str
    #: The forge's way of naming a reverted request (groups: optional repository, number).
    reverts_request: re.Pattern[str]


@dataclass(frozen=True)
class Request:
    """A merged pull or merge request, named as the forge names it across repositories."""

    #: "owner/repo#12" (GitHub), "group/project!12" (GitLab); None when the hook does not
    #: number it (GitLab's group hooks).
    ref: str | None
    title: str | None
    #: Whether the source counts reverts as failures (its option, on by default).
    counts_reverts: bool


def marked(mapped: Mapped, request: Node, repo: str, forge: Forge, counts_reverts: bool) -> Mapped:
    """The merged request's commits (`mapped`), each naming the request and what it
    reverts, read from the request's object."""
    text = request.opt_text(forge.text)
    found = reverted_requests(text, forge.reverts_request, repo, forge.mark)
    found += reverted_commits(text)
    merged_request = Request(
        ref=request_ref(request, forge.number, repo, forge.mark),
        title=request.opt_text("title"),
        counts_reverts=counts_reverts,
    )
    return Mapped(commits=merged(mapped.commits, merged_request, found))


def request_ref(node: Node, key: str, repo: str, mark: str) -> str | None:
    """The request's ref from its number at `key`, if the hook gives one."""
    number = node.raw(key)
    if is_int(number) or (isinstance(number, str) and number.isdigit()):
        return f"{repo}{mark}{number}"
    return None


def reverted_commits(text: str | None) -> list[str]:
    """The shas after "This reverts commit", lower case, in order."""
    return list(dict.fromkeys(m.lower() for m in _COMMIT.findall(text or "")))


def reverted_requests(
    text: str | None, pattern: re.Pattern[str], here: str, mark: str
) -> list[str]:
    """The requests `pattern` finds (groups: an optional "owner/repo", the number), as refs;
    a number without a repository is one of `here`."""
    found = (f"{repo or here}{mark}{number}" for repo, number in pattern.findall(text or ""))
    return list(dict.fromkeys(found))


def merged(
    commits: Iterable[CommitRecord], request: Request, reverts: list[str]
) -> list[CommitRecord]:
    """The request's commits, each naming the request and, when the source counts reverts
    and the request reverts anything, what it reverts and why."""
    counted = reverts[:MAX_REVERTS] if request.counts_reverts else []
    reason = _reason(request, counted) if counted else None
    return [
        commit.model_copy(
            update={"request": request.ref, "reverts": counted, "revert_reason": reason}
        )
        for commit in commits
    ]


def _reason(request: Request, reverts: list[str]) -> str:
    """'acme/shop#45 (Revert "Add retry") reverts acme/shop#41', at most MAX_REASON long."""
    title = f" ({request.title})" if request.title else ""
    reason = f"{request.ref or 'a merged request'}{title} reverts {', '.join(reverts)}"
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
