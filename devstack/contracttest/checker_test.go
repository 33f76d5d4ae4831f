package contracttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

const petDoc = `{
  "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
  "paths": {"/pets/{id}": {"get": {
    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "a pet", "content": {"application/json": {"schema": {
      "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}}}}}
}`

// The transport hands every answer on unchanged and keeps what the document does not describe.
func TestTransportKeepsTheMismatches(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(petDoc))
	require.NoError(t, err)
	checker, err := New(doc, Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/pets/1":
			_, _ = w.Write([]byte(`{"name":"Fido"}`))
		case "/pets/2":
			_, _ = w.Write([]byte(`{"nome":"Fido"}`)) // the required name missing
		default:
			w.WriteHeader(http.StatusOK) // a path the document does not have, answered
		}
	}))
	defer srv.Close()
	transport := &Transport{Checker: checker}
	client := &http.Client{Transport: transport}

	for path, body := range map[string]string{"/pets/1": `{"name":"Fido"}`, "/pets/2": `{"nome":"Fido"}`, "/cats": ""} {
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, body, string(b), path)
	}
	bad := transport.Mismatches()
	require.Len(t, bad, 2)
	joined := bad[0].Error() + bad[1].Error()
	require.Contains(t, joined, "GET /pets/2")
	require.Contains(t, joined, "GET /cats is not in the document")
}
