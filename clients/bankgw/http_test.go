package bankgw_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/bankgw"
	"incasso/devstack/banksim"
	"incasso/devstack/fakeclock"
	"incasso/devstack/jsontest"
	"incasso/devstack/sddtest"
	"incasso/domain/date"
	"incasso/domain/sepa/camt054"
	"incasso/domain/sepa/pain002"
	"incasso/domain/sepa/pain008"
)

const testKey = "test-api-key"

// fast retries without waiting to speak of, for the tests of WithRetry.
var fast = bankgw.WithRetry(bankgw.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond})

// testBank serves a simulated bank with cfg and returns its URL and a gateway to it.
func testBank(t *testing.T, cfg banksim.Config) (string, *bankgw.HTTP) {
	t.Helper()
	cfg.APIKey = testKey
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(banksim.New(cfg).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, bankgw.NewHTTP(srv.URL, testKey, 5*time.Second)
}

// control posts v as JSON to a /sim/ route of the bank at url and requires the status.
func control(t *testing.T, url, path string, v any, status int) {
	t.Helper()
	jsontest.Call(t, http.MethodPost, url+path, v, status)
}

// The whole journey of a file: submitted, not ready before the delay, then a pain.002 that
// rejects the transaction a rule named, the same on every read.
func TestSubmitAndStatusReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Delay: time.Minute, Now: clk.Now})
	control(t, url, "/sim/bank/rules", banksim.Rule{MandateID: "MND-2", Code: "AM04", Times: 1}, http.StatusNoContent)

	const msgID = "MSG/2026-03 A" // a slash and a space: the report's path escapes them
	require.NoError(t, gw.Submit(ctx, msgID, bytes.NewReader(sddtest.Pain008(t, pain008.V08, msgID, sddtest.Transactions("E2E-A", 3)))))

	_, err := gw.StatusReport(ctx, msgID)
	require.ErrorIs(t, err, bankgw.ErrNotReady)
	var se *bankgw.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, time.Minute, se.RetryAfter)

	clk.Advance(time.Minute)
	raw, err := gw.StatusReport(ctx, msgID)
	require.NoError(t, err)
	rep, err := pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, msgID, rep.OriginalMsgID)
	require.Equal(t, "pain.008.001.08", rep.OriginalMsgName)
	require.Equal(t, "PART", rep.GroupStatus)
	require.Len(t, rep.PaymentInfos, 1)
	require.Equal(t, "PMT-1", rep.PaymentInfos[0].OriginalPmtInfID)
	require.Equal(t, "PART", rep.PaymentInfos[0].Status)
	require.Equal(t, []pain002.TransactionStatus{{OriginalEndToEndID: "E2E-A-2", Status: "RJCT", Reason: "AM04"}},
		rep.PaymentInfos[0].Transactions)

	clk.Advance(time.Hour)
	again, err := gw.StatusReport(ctx, msgID)
	require.NoError(t, err)
	require.Equal(t, raw, again, "the report is stable")

	_, err = gw.StatusReport(ctx, "MSG-UNKNOWN")
	require.ErrorIs(t, err, bankgw.ErrNotFound)
}

func TestResubmission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, gw := testBank(t, banksim.Config{})
	file := sddtest.Pain008(t, pain008.V08, "MSG-B", sddtest.Transactions("E2E-B", 3))
	require.NoError(t, gw.Submit(ctx, "MSG-B", bytes.NewReader(file)))
	require.NoError(t, gw.Submit(ctx, "MSG-B", bytes.NewReader(file)), "the same file again is accepted")

	other := sddtest.Pain008(t, pain008.V08, "MSG-B", sddtest.Transactions("E2E-B", 2))
	err := gw.Submit(ctx, "MSG-B", bytes.NewReader(other))
	require.ErrorIs(t, err, bankgw.ErrConflict)
	require.NotErrorIs(t, err, bankgw.ErrRejected)
}

func TestInvalidFileIsRejected(t *testing.T) {
	t.Parallel()
	file := sddtest.Pain008(t, pain008.V08, "MSG-C", sddtest.Transactions("E2E-C", 3))
	tests := []struct {
		name, msgID string
		file        []byte
		reason      string // in the bank's message
	}{
		{"not XML", "MSG-C", []byte("this is not XML"), "not an XML document"},
		{"not a pain.008", "MSG-C", []byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>`), "is not the Document of pain.008"},
		{"invalid pain.008", "MSG-C", bytes.Replace(file, []byte("<EndToEndId>"), []byte("<EndToEnd>"), 1), "EndToEnd"},
		{"other MsgId", "MSG-OTHER", file, "X-Message-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, gw := testBank(t, banksim.Config{})
			err := gw.Submit(ctx, tt.msgID, bytes.NewReader(tt.file))
			require.ErrorIs(t, err, bankgw.ErrRejected)
			var se *bankgw.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, http.StatusBadRequest, se.Status)
			require.Contains(t, se.Message, tt.reason)
			_, err = gw.StatusReport(ctx, tt.msgID)
			require.ErrorIs(t, err, bankgw.ErrNotFound, "the bank kept nothing")
		})
	}
}

func TestFileRejectedAsAWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Now: clk.Now})
	control(t, url, "/sim/bank/file-reject", banksim.FileReject{Code: "FF01"}, http.StatusNoContent)
	require.NoError(t, gw.Submit(ctx, "MSG-D1", bytes.NewReader(sddtest.Pain008(t, pain008.V08, "MSG-D1", sddtest.Transactions("E2E-D1", 3)))))
	require.NoError(t, gw.Submit(ctx, "MSG-D2", bytes.NewReader(sddtest.Pain008(t, pain008.V08, "MSG-D2", sddtest.Transactions("E2E-D2", 3)))))
	clk.Advance(2 * time.Second)

	raw, err := gw.StatusReport(ctx, "MSG-D1")
	require.NoError(t, err)
	rep, err := pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "RJCT", rep.GroupStatus)
	require.Equal(t, "FF01", rep.GroupReason)
	require.Empty(t, rep.PaymentInfos)

	raw, err = gw.StatusReport(ctx, "MSG-D2")
	require.NoError(t, err)
	rep, err = pain002.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, "ACCP", rep.GroupStatus, "only the next file was rejected")
	require.Empty(t, rep.PaymentInfos)
}

func TestReturnsAndRefunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, date.Rome))
	url, gw := testBank(t, banksim.Config{Now: clk.Now})
	control(t, url, "/sim/bank/rules", banksim.Rule{MandateID: "MND-2", Code: "AM04"}, http.StatusNoContent)
	require.NoError(t, gw.Submit(ctx, "MSG-E", bytes.NewReader(sddtest.Pain008(t, pain008.V08, "MSG-E", sddtest.Transactions("E2E-E", 3)))))

	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-E-1", Reason: "AM04"}, http.StatusConflict) // not collected yet
	clk.Advance(2 * time.Second)
	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-E-2", Reason: "AM04"}, http.StatusConflict) // rejected
	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-X", Reason: "AM04"}, http.StatusNotFound)
	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-E-1", Reason: "AM04"}, http.StatusCreated)
	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-E-1", Reason: "AM04"}, http.StatusConflict) // already returned
	clk.Advance(24 * time.Hour)
	control(t, url, "/sim/bank/returns", banksim.Return{EndToEndID: "E2E-E-3", Reason: "MD06", Refund: true}, http.StatusCreated)

	docs, err := gw.Notifications(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, docs, 2)
	require.Less(t, docs[0].ID, docs[1].ID)
	n, err := camt054.Parse(docs[0].XML)
	require.NoError(t, err)
	require.Equal(t, []camt054.Return{{EndToEndID: "E2E-E-1", Amount: 1001, Reason: "AM04", BookingDate: date.Date{Year: 2026, Month: time.March, Day: 2}}}, n.Returns)

	docs, err = gw.Notifications(ctx, docs[0].ID, 10)
	require.NoError(t, err)
	require.Len(t, docs, 1, "only what came after the cursor")
	n, err = camt054.Parse(docs[0].XML)
	require.NoError(t, err)
	require.Equal(t, []camt054.Return{{EndToEndID: "E2E-E-3", Amount: 1003, Reason: "MD06", Refund: true, BookingDate: date.Date{Year: 2026, Month: time.March, Day: 3}}}, n.Returns)

	docs, err = gw.Notifications(ctx, docs[0].ID, 10)
	require.NoError(t, err)
	require.Empty(t, docs)
}

func TestWrongAPIKey(t *testing.T) {
	t.Parallel()
	url, _ := testBank(t, banksim.Config{})
	gw := bankgw.NewHTTP(url, "other-key", 5*time.Second)
	_, err := gw.Notifications(context.Background(), "", 10)
	var se *bankgw.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusUnauthorized, se.Status)
}

// answer is one scripted response.
type answer struct {
	status int
	hangUp bool // close the connection without answering
}

// script answers requests with its answers in turn, repeating the last, and records the
// bodies.
type script struct {
	mu      sync.Mutex
	answers []answer
	bodies  [][]byte
	headers []http.Header
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	a := s.answers[min(len(s.bodies), len(s.answers)-1)]
	s.bodies = append(s.bodies, b)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if a.hangUp {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(a.status)
}

func (s *script) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

func serve(t *testing.T, h http.Handler, opts ...bankgw.Option) *bankgw.HTTP {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return bankgw.NewHTTP(srv.URL, testKey, 5*time.Second, opts...)
}

// By default every call makes one attempt: a temporary failure is the caller's to retry (an
// activity's retry policy), as it is for a file that can be read again.
func TestOneAttemptByDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := sddtest.Pain008(t, pain008.V08, "MSG-J", sddtest.Transactions("E2E-J", 1))
	calls := map[string]struct {
		answer answer
		call   func(*bankgw.HTTP) error
	}{
		"submit": {answer{status: 503}, func(gw *bankgw.HTTP) error { return gw.Submit(ctx, "MSG-J", bytes.NewReader(data)) }},
		"status report": {answer{status: 429}, func(gw *bankgw.HTTP) error {
			_, err := gw.StatusReport(ctx, "MSG-J")
			return err
		}},
		"notifications": {answer{hangUp: true}, func(gw *bankgw.HTTP) error {
			_, err := gw.Notifications(ctx, "", 10)
			return err
		}},
	}
	for name, c := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &script{answers: []answer{c.answer, {status: 200}}}
			err := c.call(serve(t, s))
			var se *bankgw.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, c.answer.status, se.Status, "0 when no answer came")
			require.True(t, se.Temporary())
			require.NotErrorIs(t, err, bankgw.ErrRejected)
			require.Len(t, s.Bodies(), 1, "not retried in the process")
		})
	}
}

// What the bank says may quote the file: it is kept in Message, out of the error's text.
func TestErrorsDoNotEchoTheBank(t *testing.T) {
	t.Parallel()
	const quote = "IBAN IT60X0542811101000000123456 of Mario Rossi is invalid"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"`+quote+`"}`)
	}))
	t.Cleanup(srv.Close)
	err := bankgw.NewHTTP(srv.URL, testKey, 5*time.Second).Submit(context.Background(), "MSG-K", bytes.NewReader([]byte("<Document/>")))
	require.ErrorIs(t, err, bankgw.ErrRejected)
	var se *bankgw.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, quote, se.Message)
	require.False(t, se.Temporary())
	require.Equal(t, "bank submit MSG-K: HTTP 400: rejected by the bank", err.Error())
}

// With WithRetry, a file on disk is streamed again, whole, on every retry.
func TestSubmitRetriesWithTheWholeFile(t *testing.T) {
	t.Parallel()
	data := sddtest.Pain008(t, pain008.V08, "MSG-F", sddtest.Transactions("E2E-F", 3))
	path := filepath.Join(t.TempDir(), "MSG-F.xml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	s := &script{answers: []answer{{status: 503}, {hangUp: true}, {status: 503}, {status: 202}}}
	require.NoError(t, serve(t, s, fast).Submit(context.Background(), "MSG-F", f))
	bodies := s.Bodies()
	require.Len(t, bodies, 4)
	for _, b := range bodies {
		require.Equal(t, data, b)
	}
	require.Equal(t, "Bearer "+testKey, s.headers[0].Get("Authorization"))
	require.Equal(t, "MSG-F", s.headers[0].Get("X-Message-Id"))
}

// A reader that cannot be read again is sent once, even with WithRetry: the temporary
// failure is the caller's.
func TestSubmitDoesNotRetryAStream(t *testing.T) {
	t.Parallel()
	data := sddtest.Pain008(t, pain008.V08, "MSG-G", sddtest.Transactions("E2E-G", 3))
	s := &script{answers: []answer{{status: 503}, {status: 202}}}
	err := serve(t, s, fast).Submit(context.Background(), "MSG-G", io.MultiReader(bytes.NewReader(data)))
	var se *bankgw.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusServiceUnavailable, se.Status)
	require.Equal(t, [][]byte{data}, s.Bodies())
}

func TestSubmitDoesNotRetryARefusal(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusConflict, http.StatusRequestEntityTooLarge} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			s := &script{answers: []answer{{status: status}, {status: 202}}}
			err := serve(t, s, fast).Submit(context.Background(), "MSG-H", bytes.NewReader([]byte("<Document/>")))
			require.Error(t, err)
			require.Len(t, s.Bodies(), 1, "not retried")
		})
	}
}

func TestGetsRetry(t *testing.T) {
	t.Parallel()
	s := &script{answers: []answer{{status: 502}, {status: 429}, {status: 500}, {status: 503}}}
	_, err := serve(t, s, fast).StatusReport(context.Background(), "MSG-I")
	var se *bankgw.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusServiceUnavailable, se.Status, "the last answer after all attempts")
	require.Len(t, s.Bodies(), 4)
}
