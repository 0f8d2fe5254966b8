"""Pages for people: the REST reference at /docs (Swagger UI) and the GraphQL explorer at
/graphql (GraphiQL).

Both work without internet access: every asset, the vendored tools included
(`static/vendor/`, refreshed from npm by `scripts/refresh-web-vendor`), is served by the
service itself, and the pages carry a Content-Security-Policy that allows nothing from
elsewhere.
"""
