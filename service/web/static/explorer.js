// The GraphQL explorer: an editor, a token field, a result pane and a schema browser.
// Served by the service at /graphql; it talks to nothing but that endpoint.
"use strict";

// Relative to the page, which is served at the GraphQL endpoint itself.
const ENDPOINT = "graphql";
const STORE = {
  token: "kpi-explorer.token",
  query: "kpi-explorer.query",
  variables: "kpi-explorer.variables",
};
const DEFAULT_QUERY = [
  "# Ctrl+Enter runs the query.",
  "{",
  "  teams(first: 10) {",
  "    nodes {",
  "      slug",
  "      name",
  "    }",
  "  }",
  "}",
  "",
].join("\n");

// What the schema browser shows; sent as is (no interpolation), so tests can run it.
const INTROSPECTION = `query SchemaBrowser {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { name description defaultValue type { ...TypeRef } }
        type { ...TypeRef }
      }
      inputFields { name description defaultValue type { ...TypeRef } }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { name }
    }
  }
}

fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name } } } } } }
}`;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function session(key, value) {
  try {
    if (value === undefined) return sessionStorage.getItem(key);
    if (value === "") sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch (e) {
    // storage may be disabled; the explorer still works for this page
  }
  return null;
}

async function post(body) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = $("token").value.trim();
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch (e) {
    data = null;
  }
  return { response, text, data };
}

function showStatus(text, failed) {
  const status = $("status");
  status.textContent = text;
  status.className = failed ? "failed" : "ok";
}

async function run() {
  const query = $("query").value;
  const raw = $("variables").value.trim();
  let variables = null;
  if (raw) {
    try {
      variables = JSON.parse(raw);
    } catch (e) {
      showStatus("variables are not JSON: " + e.message, true);
      return;
    }
  }
  const button = $("run");
  button.disabled = true;
  showStatus("running...", false);
  const started = performance.now();
  try {
    const { response, text, data } = await post({ query, variables });
    const ms = Math.round(performance.now() - started);
    const failed = !response.ok || (data && Array.isArray(data.errors));
    showStatus(`${response.status} ${response.statusText} in ${ms} ms`, failed);
    $("result").textContent = data === null ? text : JSON.stringify(data, null, 2);
  } catch (e) {
    showStatus("request failed: " + e.message, true);
    $("result").textContent = "";
  } finally {
    button.disabled = false;
  }
}

// Schema browser ----------

let schema = null;

function typeLink(ref) {
  if (ref.kind === "NON_NULL") {
    return el("span", {}, typeLink(ref.ofType), "!");
  }
  if (ref.kind === "LIST") return el("span", {}, "[", typeLink(ref.ofType), "]");
  return el("a", { href: "#", class: "type", onclick: (e) => {
    e.preventDefault();
    showType(ref.name);
  } }, ref.name);
}

function description(text) {
  return text ? el("p", { class: "description" }, text) : null;
}

function deprecation(item) {
  if (!item.isDeprecated) return null;
  return el("p", { class: "deprecated" }, "Deprecated" +
    (item.deprecationReason ? ": " + item.deprecationReason : ""));
}

function argumentList(args) {
  if (!args || args.length === 0) return null;
  return el("ul", { class: "args" }, ...args.map((arg) => el("li", {},
    el("code", {}, arg.name), ": ", typeLink(arg.type),
    arg.defaultValue !== null ? el("span", { class: "default" }, " = " + arg.defaultValue) : null,
    description(arg.description))));
}

function showType(name) {
  const type = schema && schema.byName.get(name);
  const detail = $("type-detail");
  detail.replaceChildren();
  if (!type) return;
  for (const item of document.querySelectorAll("#type-list a")) {
    item.classList.toggle("current", item.dataset.name === name);
  }
  detail.append(el("h2", {}, type.name, el("span", { class: "kind" }, " " + type.kind)),
    description(type.description));
  const fields = type.fields || type.inputFields || [];
  if (fields.length) {
    detail.append(el("ul", { class: "fields" }, ...fields.map((field) => el("li", {},
      el("code", { class: "field" }, field.name), ": ", typeLink(field.type),
      field.defaultValue !== undefined && field.defaultValue !== null
        ? el("span", { class: "default" }, " = " + field.defaultValue) : null,
      description(field.description), deprecation(field), argumentList(field.args)))));
  }
  if (type.enumValues && type.enumValues.length) {
    detail.append(el("ul", { class: "fields" }, ...type.enumValues.map((value) => el("li", {},
      el("code", { class: "field" }, value.name), description(value.description),
      deprecation(value)))));
  }
  if (type.possibleTypes && type.possibleTypes.length) {
    detail.append(el("p", {}, "One of: "), el("ul", { class: "fields" },
      ...type.possibleTypes.map((t) => el("li", {}, typeLink({ kind: "OBJECT", name: t.name })))));
  }
}

function matches(type, filter) {
  if (!filter) return true;
  if (type.name.toLowerCase().includes(filter)) return true;
  const fields = type.fields || type.inputFields || type.enumValues || [];
  return fields.some((f) => f.name.toLowerCase().includes(filter));
}

function renderTypeList() {
  const list = $("type-list");
  list.replaceChildren();
  if (!schema) return;
  const filter = $("schema-filter").value.trim().toLowerCase();
  const groups = [
    ["Root", (t) => schema.roots.includes(t.name)],
    ["Objects", (t) => t.kind === "OBJECT" && !schema.roots.includes(t.name)],
    ["Inputs", (t) => t.kind === "INPUT_OBJECT"],
    ["Enums", (t) => t.kind === "ENUM"],
    ["Interfaces and unions", (t) => t.kind === "INTERFACE" || t.kind === "UNION"],
    ["Scalars", (t) => t.kind === "SCALAR"],
  ];
  const visible = schema.types.filter((t) => !t.name.startsWith("__") && matches(t, filter));
  for (const [title, test] of groups) {
    const members = visible.filter(test);
    if (members.length === 0) continue;
    list.append(el("li", { class: "group" }, title));
    for (const type of members) {
      list.append(el("li", {}, el("a", { href: "#", "data-name": type.name, onclick: (e) => {
        e.preventDefault();
        showType(type.name);
      } }, type.name)));
    }
  }
}

async function loadSchema() {
  const detail = $("type-detail");
  detail.replaceChildren(el("p", { class: "hint" }, "Loading..."));
  try {
    const { response, text, data } = await post({ query: INTROSPECTION });
    if (!response.ok || !data || !data.data) {
      const why = data && (data.detail || (data.errors && data.errors[0].message));
      detail.replaceChildren(el("p", { class: "failed" },
        `Could not load the schema (${response.status}): ${why || text}`));
      return;
    }
    const raw = data.data.__schema;
    const types = raw.types.slice().sort((a, b) => a.name.localeCompare(b.name));
    const roots = [raw.queryType, raw.mutationType].filter(Boolean).map((t) => t.name);
    schema = { types, roots, byName: new Map(types.map((t) => [t.name, t])) };
    renderTypeList();
    showType(roots[0]);
  } catch (e) {
    detail.replaceChildren(el("p", { class: "failed" }, "Could not load the schema: " + e.message));
  }
}

// Wiring ----------

function start() {
  const token = $("token");
  const query = $("query");
  const variables = $("variables");
  token.value = session(STORE.token) || "";
  query.value = session(STORE.query) || DEFAULT_QUERY;
  variables.value = session(STORE.variables) || "";
  token.addEventListener("change", () => {
    session(STORE.token, token.value.trim());
    if (token.value.trim()) loadSchema();
  });
  query.addEventListener("input", () => session(STORE.query, query.value));
  variables.addEventListener("input", () => session(STORE.variables, variables.value));
  $("run").addEventListener("click", run);
  $("load-schema").addEventListener("click", loadSchema);
  $("schema-filter").addEventListener("input", renderTypeList);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  if (token.value) loadSchema();
}

document.addEventListener("DOMContentLoaded", start);
