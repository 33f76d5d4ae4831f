package fdr_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/fdr"
)

// FuzzCents: an amount read is the amount written back, with two decimals; anything else is
// refused, never misread.
func FuzzCents(f *testing.F) {
	for _, s := range []string{"0.01", "12", "12.5", "1234567.89", "-1", "1e2", "1.234", ".5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := fdr.Cents(json.Number(s))
		if err != nil {
			return
		}
		back, err := fdr.Cents(json.Number(c.Decimal()))
		require.NoError(t, err)
		require.Equal(t, c, back)
		whole, _, _ := strings.Cut(s, ".")
		require.Equal(t, strings.TrimLeft(whole, "0"), strings.TrimLeft(strings.Split(c.Decimal(), ".")[0], "0"), "the euro are the euro written")
	})
}

// FuzzPayments: whatever a page of payments holds, the client returns payments that keep the
// spec's rules, or an error wrapping ErrMalformed; it never panics.
func FuzzPayments(f *testing.F) {
	f.Add(`{"metadata":{"pageNumber":1,"totPage":1},"count":1,"data":[{"index":1,"iuv":"01000000000001234","iur":"r1","idTransfer":1,"pay":12.5,"payStatus":"EXECUTED","payDate":"2026-12-07T10:00:00Z"}]}`)
	f.Add(`{"data":[{"index":0,"iuv":"","iur":"r1","idTransfer":9,"pay":-1,"payStatus":"X"}]}`)
	f.Add(`{"data":[{"index":1,"pay":"12.50"}]}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, body string) {
		// The answer is served by the transport, not a listener: a server per input would
		// leave a socket in TIME_WAIT per execution and run out of ports long before 1,000,000.
		answer := func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}
		ps, _, _, err := fdr.New("http://fdr.test", "k", 5*time.Second, fdr.WithTransport(roundTripFunc(answer))).
			Payments(context.Background(), "00000000000", "F", 1, "P", 1, 10)
		if err != nil {
			require.True(t, errors.Is(err, fdr.ErrMalformed), "%v", err)
			return
		}
		for _, p := range ps {
			require.GreaterOrEqual(t, p.Index, int64(1))
			require.NotEmpty(t, p.IUV)
			require.NotEmpty(t, p.IUR)
			require.GreaterOrEqual(t, fdr.OutcomeCode(p.PayStatus), 0)
			require.GreaterOrEqual(t, int64(p.AmountCents), int64(0))
		}
	})
}

// roundTripFunc serves a request from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
