"""GitHub's merged pull requests that revert earlier work.

GitHub's Revert button opens a pull request titled `Revert "<title>"` whose body starts
`Reverts owner/repo#N`; a revert made with git says `This reverts commit <sha>.` in its
message, which people paste into the body. Either marks the merge commit as a revert.
"""

from __future__ import annotations

import re

from service.ingest import reverts
from service.ingest.jsonread import Node
from service.ingest.model import AdapterOptions, Mapped
from service.ingest.sources.github.options import Options

#: "Reverts owner/repo#12" or "Reverts #12", at the start of a line.
REVERTS_LINE = re.compile(r"^Reverts (?:([\w.-]+/[\w.-]+))?#(\d+)\b", re.MULTILINE)
GITHUB = reverts.Forge(number="number", text="body", mark="#", reverts_request=REVERTS_LINE)


def marked(mapped: Mapped, root: Node, options: AdapterOptions) -> Mapped:
    """The merged pull request's commits, naming it and what it reverts."""
    counts = Options.model_validate(options.kind_options).reverts_are_failures
    repo = root.obj("repository").text("full_name")
    return reverts.marked(mapped, root.obj("pull_request"), repo, GITHUB, counts)
