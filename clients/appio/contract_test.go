package appio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"incasso/clients/appio"
	"incasso/devstack/iosim"
	"incasso/devstack/specs"
)

const (
	tariKey  = "io-key-tari-0123456789abcdef0123"
	mensaKey = "io-key-mensa-0123456789abcdef012"
	citizen  = "RSSMRA80A01H501U" // has a profile, takes TARI, turned MENSA off
	stranger = "VRDGPP70C15F205Q" // no profile
)

// contract is the simulator behind a validator: every request must match the App IO spec,
// and so must every answer of the simulator.
type contract struct {
	url string
	mu  sync.Mutex
	bad []string
}

func (c *contract) errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, fmt.Sprintf(format, args...))
}

func (c *contract) mismatches() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bad...)
}

// ioRouter loads the IO spec (Swagger 2.0, converted to OpenAPI 3) and routes it at url.
func ioRouter(t *testing.T, url string) (*openapi3.T, routers.Router) {
	t.Helper()
	data, err := specs.Read("citizen", "io-services.yaml")
	require.NoError(t, err)
	jsonData, err := yaml.YAMLToJSON(data)
	require.NoError(t, err)
	var doc2 openapi2.T
	require.NoError(t, doc2.UnmarshalJSON(jsonData))
	doc, err := openapi2conv.ToV3(&doc2)
	require.NoError(t, err)
	doc.Servers = openapi3.Servers{{URL: url}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return doc, router
}

func serveContract(t *testing.T, sim http.Handler) *contract {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	ct := &contract{url: "http://" + srv.Listener.Addr().String() + iosim.BasePath}
	_, router := ioRouter(t, ct.url)
	// SkipSettingDefaults: the simulator must see the exact bytes the client sent.
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: anyKey, SkipSettingDefaults: true}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err != nil {
			ct.errorf("%s %s: no operation of the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			ct.errorf("%s %s: request breaks the spec: %v", r.Method, r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts,
		})
		if err != nil {
			ct.errorf("%s %s: the simulator's answer %d breaks the spec: %v", r.Method, r.URL.Path, rec.Code, err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return ct
}

// anyKey accepts the SubscriptionKey scheme when the header is there: the simulator itself
// tells a known key from an unknown one.
func anyKey(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s.Type == "apiKey" && s.In == "header" && in.RequestValidationInput.Request.Header.Get(s.Name) != "" {
		return nil
	}
	return errors.New("no " + in.SecuritySchemeName)
}

func newSim() *iosim.IO {
	sim := iosim.New(map[string]string{tariKey: "TARI", mensaKey: "MENSA"})
	sim.AddProfile(citizen, mensaKey)
	return sim
}

func payment() appio.Message {
	return appio.Message{
		FiscalCode: citizen,
		Subject:    "Avviso di pagamento TARI 2026",
		Markdown: "Gentile Mario Rossi,\n\nil **Comune di Esempio** le invia l'avviso di pagamento pagoPA per la TARI 2026: " +
			"può pagarlo qui, nell'app IO.",
		DueDate: time.Date(2026, time.December, 31, 23, 0, 0, 0, time.UTC),
		Payment: &appio.Payment{NoticeNumber: "302201151398574181", Amount: 123456, PayeeFiscalCode: "00560180128"},
	}
}

// TestContract runs every operation of the client against the simulator behind the spec
// validator: the profile check (present, opted out, absent), a message with payment data, and
// the usual failures.
func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := newSim()
	ct := serveContract(t, sim.Handler())
	c := appio.New(ct.url, map[string]string{"TARI": tariKey, "MENSA": mensaKey, "IMU": "unknown-key"}, 5*time.Second)
	require.True(t, c.Enabled("TARI"))
	require.False(t, c.Enabled("SALA"))
	require.Equal(t, []string{"IMU", "MENSA", "TARI"}, c.Services())

	p, err := c.Profile(ctx, "TARI", citizen)
	require.NoError(t, err, "%v", ct.mismatches())
	require.True(t, p.SenderAllowed)
	p, err = c.Profile(ctx, "MENSA", citizen)
	require.NoError(t, err)
	require.False(t, p.SenderAllowed, "the citizen turned MENSA's messages off")
	_, err = c.Profile(ctx, "TARI", stranger)
	require.ErrorIs(t, err, appio.ErrNoProfile)
	require.NotContains(t, err.Error(), stranger, "no fiscal code in errors")
	_, err = c.Profile(ctx, "IMU", citizen)
	require.ErrorIs(t, err, appio.ErrUnauthorized)
	_, err = c.Profile(ctx, "SALA", citizen)
	require.ErrorIs(t, err, appio.ErrNotEnabled)

	body, err := payment().Body()
	require.NoError(t, err)
	sent, err := c.Submit(ctx, "TARI", body)
	require.NoError(t, err, "%v", ct.mismatches())
	require.Len(t, sent.ID, 26)
	require.JSONEq(t, `{"id":"`+sent.ID+`"}`, string(sent.Answer))

	got := sim.MessagesTo(citizen)
	require.Len(t, got, 1)
	m := got[0]
	require.Equal(t, sent.ID, m.ID)
	require.Equal(t, "TARI", m.Service)
	require.Equal(t, body, []byte(m.Body), "IO got the exact bytes built")
	require.Equal(t, "2026-12-31T23:00:00.000Z", m.Content.DueDate)
	require.NotNil(t, m.Content.PaymentData)
	require.Equal(t, int64(123456), m.Content.PaymentData.Amount)
	require.Equal(t, "302201151398574181", m.Content.PaymentData.NoticeNumber)
	require.Equal(t, "00560180128", m.Content.PaymentData.Payee.FiscalCode)

	// A message to a service the citizen turned off is not delivered: IO answers 500.
	_, err = c.Submit(ctx, "MENSA", body)
	var se *appio.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusInternalServerError, se.Status)
	require.True(t, se.Temporary())

	// A message without payment data is valid too.
	info := payment()
	info.Payment, info.DueDate = nil, time.Time{}
	body, err = info.Body()
	require.NoError(t, err)
	_, err = c.Submit(ctx, "TARI", body)
	require.NoError(t, err)
	require.Len(t, sim.MessagesTo(citizen), 2)

	require.Empty(t, ct.mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous: a message the spec
// refuses (a subject too short, bypassing Message.Body's checks) is reported.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	ct := serveContract(t, newSim().Handler())
	c := appio.New(ct.url, map[string]string{"TARI": tariKey}, 5*time.Second)
	_, err := c.Submit(context.Background(), "TARI", []byte(`{"fiscal_code":"`+citizen+`","content":{"subject":"short","markdown":"x"}}`))
	require.ErrorIs(t, err, appio.ErrRejected)
	require.NotEmpty(t, ct.mismatches())
	require.Contains(t, ct.mismatches()[0], "request breaks the spec")
}
