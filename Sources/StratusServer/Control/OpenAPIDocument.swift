/// The OpenAPI 3 description of the `/v1` control API, served at `/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
        {"openapi": "3.0.3", "info": {"title": "Stratus control API", "version": "1"}, "paths": {}}
        """#
}
