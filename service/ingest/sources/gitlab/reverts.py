"""GitLab's merged merge requests that revert earlier work.

GitLab's Revert button commits `Revert "<title>"` with `This reverts merge request !N` (a
merge request) or `This reverts commit <sha>` (a commit), and the merge request it opens
carries that message as its description. Either marks the merged commits as a revert.
"""

from __future__ import annotations

import re

from service.ingest import reverts
from service.ingest.jsonread import Node
from service.ingest.model import AdapterOptions, Mapped
from service.ingest.sources.gitlab.options import Options

#: "This reverts merge request !12" or "... group/project!12".
REVERTS_REQUEST = re.compile(r"\bThis reverts merge request ([\w./-]+)?!(\d+)\b")
GITLAB = reverts.Forge(number="iid", text="description", mark="!", reverts_request=REVERTS_REQUEST)


def marked(mapped: Mapped, root: Node, options: AdapterOptions) -> Mapped:
    """The merged merge request's commits, naming it and what it reverts."""
    counts = Options.model_validate(options.kind_options).reverts_are_failures
    project = root.obj("project").text("path_with_namespace")
    return reverts.marked(mapped, root.obj("object_attributes"), project, GITLAB, counts)
