// The GraphQL explorer: GraphiQL (vendor/graphiql, on React 18) posting to this service's
// /graphql. The token goes in GraphiQL's Headers tab, which is not stored anywhere, and every
// request, introspection included, carries it.
"use strict";

// Relative to the page, which is served at /graphql: the same path, behind any prefix.
const ENDPOINT = "graphql";
const ACCEPT = "application/graphql-response+json, application/json;q=0.9";

const DEFAULT_HEADERS = `{
  "Authorization": "Bearer "
}`;

const DEFAULT_QUERY = `# Put an API token (read scope) after "Bearer " in the Headers tab,
# then run with Ctrl+Enter. The arrows at the bottom left reload the
# schema, for completion and the docs pane, once the token is in.
{
  services(first: 10) {
    edges {
      node { slug name tier }
    }
  }
}
`;

async function fetcher(params, options) {
  const headers = {
    "Content-Type": "application/json",
    Accept: ACCEPT,
    ...((options && options.headers) || {}),
  };
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers,
    body: JSON.stringify(params),
    credentials: "omit",
  });
  const text = await response.text();
  try {
    // A GraphQL answer, or a problem+json (401 without a token): shown as it came.
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text}` }] };
  }
}

// GraphiQL keeps queries, tabs and history in localStorage, and its history keeps each
// query's headers (the token) even when headers are not to be kept: everything it stores goes
// through this, which drops every "headers" member first.
function withoutHeaders(value) {
  try {
    return JSON.stringify(JSON.parse(value), (key, member) =>
      key === "headers" ? undefined : member,
    );
  } catch {
    return value;
  }
}

const PREFIX = "graphiql:";
const ownKeys = () => Object.keys(localStorage).filter((key) => key.startsWith(PREFIX));

const storage = {
  getItem: (key) => localStorage.getItem(key),
  setItem: (key, value) => localStorage.setItem(key, withoutHeaders(value)),
  removeItem: (key) => localStorage.removeItem(key),
  get length() {
    return ownKeys().length;
  },
  clear: () => ownKeys().forEach((key) => localStorage.removeItem(key)),
};

document.addEventListener("DOMContentLoaded", () => {
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: DEFAULT_HEADERS,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      storage,
    }),
  );
});
