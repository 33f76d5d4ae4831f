// Package jsonhttp writes the JSON answers of the simulators.
package jsonhttp

import (
	"encoding/json"
	"net/http"
)

// Write answers v as JSON with the status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
