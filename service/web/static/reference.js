// The REST reference: Swagger UI (vendor/swagger-ui) over this service's OpenAPI document,
// with try-it. "Authorize" takes an API token (bearerAuth) for the calls made from the page;
// it is kept in memory only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("reference").replaceChildren();
  window.ui = SwaggerUIBundle({
    // Relative to the page at /docs: /openapi.json, behind any prefix.
    url: "openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    // Never sends the document to a validator elsewhere.
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    requestSnippetsEnabled: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
