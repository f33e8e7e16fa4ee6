// Package views is the HTTP surface of Hansewiki: the gorilla/mux route
// table, middleware, HTML pages with typed page models, the JSON API and its
// OpenAPI document, templates, static assets and translation catalogs, all
// embedded in the binary.
package views
