package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// The contract of the API: api/openapi.yaml, the one description of every route (tested by
// contract_test.go), served as JSON at openAPIPath and readable at docsPath.
const (
	openAPIPath = "/v1/openapi.json"
	docsPath    = "/docs"
	// redocPath serves the viewer of docsPath, vendored in api/docs (see README.md there).
	redocPath = "/docs/redoc.standalone.js"
	// docsPolicy lets the docs page load only what this server serves: no CDN, no fonts or
	// images from elsewhere (the viewer's styles are inline, its search runs in a blob worker).
	docsPolicy = "default-src 'none'; script-src 'self'; worker-src blob:; connect-src 'self'; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'"
)

//go:embed openapi.yaml
var openAPIYAML []byte

//go:embed docs/index.html
var docsPage []byte

//go:embed docs/redoc.standalone.js
var redocJS []byte

// OpenAPI returns the API's contract, loaded and validated.
func OpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate api/openapi.yaml: %w", err)
	}
	return doc, nil
}

// openAPIJSON is the contract as JSON, made once.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// contractRoutes serves the contract and its docs page, without an API key: other systems
// read them before they have one.
func (s *Server) contractRoutes(e *echo.Echo) {
	e.GET(openAPIPath, func(c echo.Context) error {
		b, err := openAPIJSON()
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
	})
	e.GET(docsPath, func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", docsPolicy)
		return c.HTMLBlob(http.StatusOK, docsPage)
	})
	e.GET(redocPath, func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", redocJS)
	})
}
