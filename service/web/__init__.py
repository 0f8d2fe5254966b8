"""Pages for people: the REST reference at /docs and the GraphQL explorer at /graphql.

Both work without internet access: every asset is served by the service itself, from
`static/` in this package, and the pages carry a Content-Security-Policy that allows
nothing from elsewhere.
"""
