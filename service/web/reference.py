"""The REST reference page: the OpenAPI document rendered as plain HTML on the server.

No script runs on the page: operations fold with <details>, schemas link to each other by
anchor. Every text taken from the document is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

_REF_PREFIX = "#/components/schemas/"
_CODE = re.compile(r"`([^`]+)`")
_METHODS = ("get", "post", "put", "patch", "delete")

#: The page's assets, relative to it (it is served at /docs, so these are /docs/assets/...).
SHARED_STYLESHEET = "docs/assets/docs.css"
STYLESHEET = "docs/assets/reference.css"
SCRIPT = "docs/assets/reference.js"


def _text(value: object) -> str:
    """Escaped text, with `code` spans kept as code."""
    return _CODE.sub(r"<code>\1</code>", html.escape(str(value)))


def _anchor(kind: str, name: str) -> str:
    return kind + "-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _schema_link(ref: str) -> str:
    name = ref.removeprefix(_REF_PREFIX)
    return f'<a href="#{_anchor("schema", name)}">{html.escape(name)}</a>'


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)


def type_html(schema: Any) -> str:
    """A one-line description of a JSON Schema's type, with links to named schemas."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        return _schema_link(str(schema["$ref"]))
    for key, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " &amp; ")):
        if key in schema:
            return joiner.join(type_html(part) for part in schema[key])
    if "const" in schema:
        return f"<code>{html.escape(_literal(schema['const']))}</code>"
    if "enum" in schema:
        values = ", ".join(f"<code>{html.escape(_literal(v))}</code>" for v in schema["enum"])
        return f"one of {values}"
    return _typed_html(schema)


def _typed_html(schema: dict[str, Any]) -> str:
    """type_html of a schema that says its `type` (or says nothing: any)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(type_html({**schema, "type": k}) for k in kind)
    if kind == "array":
        return "array of " + type_html(schema.get("items"))
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not schema.get("properties"):
            return "object of " + type_html(extra)
        return "object"
    if kind is None:
        return "any"
    text = html.escape(str(kind))
    if "format" in schema:
        text += f" ({html.escape(str(schema['format']))})"
    return text


def _branches(schema: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, ()):
            if isinstance(part, dict):
                yield part


def _bounds(noun: str, low: object, high: object) -> str:
    """A size limit in words: 1 to 200 characters, at most 50 items, at least 1 entry."""
    plural = {"character": "characters", "item": "items", "entry": "entries"}[noun]
    low, high = (None if v is None else html.escape(str(v)) for v in (low, high))
    if low is not None and high is not None:
        return f"{low} to {high} {plural}"
    if high is not None:
        return f"at most {high} {noun if high == '1' else plural}"
    if low is not None:
        return f"at least {low} {noun if low == '1' else plural}"
    return ""


def _constraints(schema: dict[str, Any]) -> list[str]:
    """Limits and defaults worth knowing, from the schema and the branches of a union."""
    found: list[str] = []
    labels = (
        ("minimum", "&ge; {}"),
        ("exclusiveMinimum", "&gt; {}"),
        ("maximum", "&le; {}"),
        ("exclusiveMaximum", "&lt; {}"),
    )
    for branch in _branches(schema):
        for noun, low, high in (
            ("character", "minLength", "maxLength"),
            ("item", "minItems", "maxItems"),
            ("entry", "minProperties", "maxProperties"),
        ):
            bounds = _bounds(noun, branch.get(low), branch.get(high))
            if bounds:
                found.append(bounds)
        for key, label in labels:
            if key in branch:
                found.append(label.format(html.escape(str(branch[key]))))
        if "pattern" in branch:
            found.append(f"pattern <code>{html.escape(str(branch['pattern']))}</code>")
        if branch.get("writeOnly"):
            found.append("write-only")
        if branch.get("readOnly"):
            found.append("read-only")
    if "default" in schema:
        found.append(f"default <code>{html.escape(_literal(schema['default']))}</code>")
    return found


def _description(schema: dict[str, Any]) -> str:
    for branch in _branches(schema):
        if branch.get("description"):
            return str(branch["description"])
    return ""


def _properties_table(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        prop = prop if isinstance(prop, dict) else {}
        notes = _constraints(prop)
        detail = _text(_description(prop))
        if notes:
            detail += f'<div class="notes">{"; ".join(notes)}</div>'
        flag = '<span class="required">required</span>' if name in required else ""
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code> {flag}</td>"
            f"<td>{type_html(prop)}</td><td>{detail}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<table class="fields"><thead><tr><th>field</th><th>type</th><th>about</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _schema_block(schema: Any) -> str:
    """A schema used in place: its type, and its fields when it is an inline object."""
    if not isinstance(schema, dict):
        return "<p>any</p>"
    out = f'<p class="type">{type_html(schema)}</p>'
    if "$ref" not in schema and schema.get("properties"):
        out += _properties_table(schema)
    return out


def _security(op: dict[str, Any], schemes: dict[str, Any]) -> str:
    names = [name for requirement in op.get("security", ()) for name in requirement]
    if not names:
        return "none"
    scope = op.get("x-required-scope")
    if names == ["bearerAuth"]:
        return "API token (<code>Authorization: Bearer</code>)" + (
            f", scope <code>{html.escape(str(scope))}</code>" if scope else ""
        )
    described = []
    for name in names:
        scheme = schemes.get(name, {})
        described.append(
            f'<a href="#{_anchor("auth", name)}">{html.escape(name)}</a>'
            + (f" ({_text(scheme['description'])})" if scheme.get("description") else "")
        )
    return "any of: " + ", ".join(described)


def _parameters(op: dict[str, Any]) -> str:
    params = op.get("parameters", [])
    if not params:
        return ""
    rows = []
    for param in params:
        schema = param.get("schema", {})
        notes = _constraints(schema) if isinstance(schema, dict) else []
        detail = _text(param.get("description", ""))
        if notes:
            detail += f'<div class="notes">{"; ".join(notes)}</div>'
        flag = '<span class="required">required</span>' if param.get("required") else ""
        rows.append(
            f"<tr><td><code>{html.escape(str(param.get('name')))}</code> {flag}</td>"
            f"<td>{html.escape(str(param.get('in')))}</td><td>{type_html(schema)}</td>"
            f"<td>{detail}</td></tr>"
        )
    return (
        "<h4>Parameters</h4>"
        '<table class="fields"><thead><tr><th>name</th><th>in</th><th>type</th><th>about</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _request_body(op: dict[str, Any]) -> str:
    body = op.get("requestBody")
    if not body:
        return ""
    parts = ["<h4>Request body</h4>"]
    for media_type, content in body.get("content", {}).items():
        parts.append(f'<p class="media"><code>{html.escape(media_type)}</code></p>')
        parts.append(_schema_block(content.get("schema")))
    return "".join(parts)


def _responses(op: dict[str, Any]) -> str:
    rows = []
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        bodies = "<br>".join(
            f"<code>{html.escape(media_type)}</code>: {type_html(c.get('schema'))}"
            for media_type, c in content.items()
        )
        kind = "ok" if str(status).startswith(("1", "2", "3")) else "error"
        rows.append(
            f'<tr><td><span class="status {kind}">{html.escape(str(status))}</span></td>'
            f"<td>{_text(response.get('description', ''))}</td><td>{bodies}</td></tr>"
        )
    return (
        "<h4>Responses</h4>"
        '<table class="fields"><thead><tr><th>status</th><th>meaning</th><th>body</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _operation(method: str, path: str, op: dict[str, Any], schemes: dict[str, Any]) -> str:
    op_id = str(op.get("operationId") or f"{method}-{path}")
    description = f"<p>{_text(op['description'])}</p>" if op.get("description") else ""
    return (
        f'<details class="operation" id="{_anchor("op", op_id)}">'
        f'<summary><span class="method {method}">{method.upper()}</span> '
        f'<code class="path">{html.escape(path)}</code> '
        f'<span class="summary">{_text(op.get("summary", ""))}</span></summary>'
        f'<div class="body">{description}'
        f'<dl class="meta"><dt>Authentication</dt><dd>{_security(op, schemes)}</dd>'
        f"<dt>Operation id</dt><dd><code>{html.escape(op_id)}</code></dd></dl>"
        f"{_parameters(op)}{_request_body(op)}{_responses(op)}</div></details>"
    )


def _operations_by_tag(spec: dict[str, Any]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                tag = str((op.get("tags") or ["other"])[0])
                by_tag.setdefault(tag, []).append((method, path, op))
    return by_tag


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    parts = [f'<section class="schema" id="{_anchor("schema", name)}">']
    parts.append(f"<h3>{html.escape(name)}</h3>")
    if schema.get("description"):
        parts.append(f"<p>{_text(schema['description'])}</p>")
    table = _properties_table(schema)
    if table:
        parts.append(table)
        if schema.get("additionalProperties") is False:
            parts.append('<p class="notes">No other fields are accepted.</p>')
    else:
        parts.append(f'<p class="type">{type_html(schema)}</p>')
    notes = _constraints(schema)
    if notes and not table:
        parts.append(f'<p class="notes">{"; ".join(notes)}</p>')
    parts.append("</section>")
    return "".join(parts)


def render_reference(spec: dict[str, Any]) -> str:
    """The whole page for an OpenAPI 3.1 document."""
    info = spec.get("info", {})
    components = spec.get("components", {})
    schemes: dict[str, Any] = components.get("securitySchemes", {})
    schemas: dict[str, Any] = components.get("schemas", {})
    by_tag = _operations_by_tag(spec)
    title = html.escape(str(info.get("title", "API")))

    toc = []
    for tag, ops in by_tag.items():
        links = "".join(
            f'<li><a href="#{_anchor("op", str(op.get("operationId") or method + path))}">'
            f'<span class="method {method}">{method.upper()}</span> {html.escape(path)}</a></li>'
            for method, path, op in ops
        )
        toc.append(
            f'<li><a href="#{_anchor("tag", tag)}">{html.escape(tag)}</a><ul>{links}</ul></li>'
        )
    toc.append('<li><a href="#auth">authentication</a></li>')
    toc.append('<li><a href="#schemas">schemas</a></li>')

    sections = []
    for tag, ops in by_tag.items():
        body = "".join(_operation(method, path, op, schemes) for method, path, op in ops)
        sections.append(
            f'<section class="tag" id="{_anchor("tag", tag)}"><h2>{html.escape(tag)}</h2>'
            f"{body}</section>"
        )

    auth_rows = "".join(
        f'<tr id="{_anchor("auth", name)}"><td><code>{html.escape(name)}</code></td>'
        f"<td>{html.escape(str(s.get('type', '')))}"
        + (f" {html.escape(str(s['scheme']))}" if s.get("scheme") else "")
        + (
            f" ({html.escape(str(s.get('in')))} <code>{html.escape(str(s['name']))}</code>)"
            if s.get("name")
            else ""
        )
        + f"</td><td>{_text(s.get('description', ''))}</td></tr>"
        for name, s in schemes.items()
    )
    schema_sections = "".join(_schema_section(name, s) for name, s in schemas.items())

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} &ndash; REST reference</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{SHARED_STYLESHEET}">'
        f'<link rel="stylesheet" href="{STYLESHEET}">'
        f'<script src="{SCRIPT}" defer></script></head><body>'
        f'<header><h1>{title} <span class="version">'
        f"{html.escape(str(info.get('version', '')))}</span></h1>"
        f"<p>{_text(info.get('description', ''))}</p>"
        '<p class="links"><a href="openapi.json">openapi.json</a>'
        '<a href="graphql">GraphQL explorer</a></p></header>'
        f'<div class="layout"><nav class="toc"><ul>{"".join(toc)}</ul></nav><main>'
        f"{''.join(sections)}"
        '<section id="auth"><h2>Authentication</h2>'
        '<table class="fields"><thead><tr><th>scheme</th><th>kind</th><th>about</th></tr>'
        f"</thead><tbody>{auth_rows}</tbody></table></section>"
        f'<section id="schemas"><h2>Schemas</h2>{schema_sections}</section>'
        "</main></div></body></html>\n"
    )
