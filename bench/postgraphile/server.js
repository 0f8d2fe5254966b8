// PostGraphile 4 serving one schema's tables read-only at /graphql: the baseline of
// `kpi bench graphql-portal`. Reads DATABASE_URL, PG_SCHEMA and PORT from the environment and
// prints "listening on <port>" once the server accepts connections (the schema is introspected
// on the first request).
"use strict";

const http = require("http");
const { postgraphile } = require("postgraphile");

const url = process.env.DATABASE_URL;
const schema = process.env.PG_SCHEMA;
const port = Number(process.env.PORT);
if (!url || !schema || !port) {
  console.error("set DATABASE_URL, PG_SCHEMA and PORT");
  process.exit(2);
}

const middleware = postgraphile(url, schema, {
  // Read-only, production-style: no mutations, no IDE, no schema watching, no query log.
  disableDefaultMutations: true,
  graphiql: false,
  watchPg: false,
  retryOnInitFail: false,
  enableQueryBatching: false,
  disableQueryLog: true,
  extendedErrors: [],
  // JSON as JSON, set-returning functions without null rows, no deprecated relation names.
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  legacyRelations: "omit",
  ignoreRBAC: true,
  ignoreIndexes: true,
  bodySizeLimit: "1MB",
});

const server = http.createServer(middleware);
server.keepAliveTimeout = 65000;
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on ${port}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
