// Swagger UI on the app's own OpenAPI document (a file, not inline: the page's CSP forbids inline scripts).
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
