package gpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"incasso/clients/gpd"
)

// fixedAnswer is a transport that answers every request with one status and body, in memory.
type fixedAnswer struct {
	status int
	body   []byte
}

func (a fixedAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: a.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(a.body)), Request: r,
	}, nil
}

const fuzzFiscalCode = "RSSMRA80A01H501U"

// FuzzGetAnswer feeds GPD's answers to the client: whatever GPD says, the client does not
// panic, succeeds only on a 2xx carrying JSON, fails with the status it got otherwise, and
// its error message never repeats what GPD said (here a debtor's fiscal code).
func FuzzGetAnswer(f *testing.F) {
	f.Add(200, []byte(`{"iupd":"TARI-1","type":"F","fiscalCode":"`+fuzzFiscalCode+`","fullName":"M R","status":"VALID","paymentOption":[{"iuv":"01000000000000001","amount":100,"dueDate":"2026-12-31T00:00:00Z","transfer":[{"idTransfer":"1","amount":100}]}]}`))
	f.Add(200, []byte(`{"paymentOption":[{"amount":"`+fuzzFiscalCode+`"}]}`))
	f.Add(404, []byte(`{"title":"`+fuzzFiscalCode+` not found","status":404}`))
	f.Add(409, []byte(`{"title":"conflict"}`))
	f.Add(503, []byte(`<html>`+fuzzFiscalCode+`</html>`))
	f.Add(200, []byte(`{"iupd":`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 200 + (status%400+400)%400 // 200..599
		c := gpd.New("http://gpd.invalid/v1", "key", time.Second, gpd.WithTransport(fixedAnswer{status, body}))
		_, err := c.Get(context.Background(), "00000000000", "TARI-1")
		if err != nil && strings.Contains(err.Error(), fuzzFiscalCode) {
			t.Fatalf("the error repeats what GPD said: %v", err)
		}
		var se *gpd.StatusError
		switch {
		case status >= 300:
			if !errors.As(err, &se) || se.Status != status {
				t.Fatalf("status %d: want a StatusError with it, got %v", status, err)
			}
		case err == nil && !json.Valid(body):
			t.Fatalf("status %d: accepted an answer that is not JSON", status)
		}
	})
}
