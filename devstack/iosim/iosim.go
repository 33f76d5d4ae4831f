// Package iosim is a fake of the App IO services API for the development stack and the tests:
// citizens with a profile, without one, or with the messages of a service turned off; the
// profile check and the submission of messages as the spec (io-services.yaml) has them, under
// BasePath; and the messages it received, listed for tests (Messages) and at
// GET /sim/io/messages. Each IO service is an API key it was given (New); a request with
// another key is a 401.
package iosim

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"incasso/devstack/internal/jsonhttp"
)

// BasePath is where the IO API is served, as https://api.io.pagopa.it/api/v1 is.
const BasePath = "/io/api/v1"

// Received is a message the simulator accepted.
type Received struct {
	ID         string          `json:"id"`
	Key        string          `json:"-"` // the API key of the IO service that sent it
	Service    string          `json:"service"`
	FiscalCode string          `json:"fiscalCode"`
	Body       json.RawMessage `json:"body"` // the exact bytes received
	At         time.Time       `json:"at"`
	// Content is Body's content, decoded.
	Content struct {
		Subject     string `json:"subject"`
		Markdown    string `json:"markdown"`
		DueDate     string `json:"due_date"`
		PaymentData *struct {
			Amount       int64  `json:"amount"`
			NoticeNumber string `json:"notice_number"`
			Payee        struct {
				FiscalCode string `json:"fiscal_code"`
			} `json:"payee"`
		} `json:"payment_data"`
	} `json:"content"`
}

// IO is the simulator. The zero value is not usable: call New.
type IO struct {
	mu       sync.Mutex
	services map[string]string          // API key -> IO service name
	profiles map[string]map[string]bool // fiscal code -> API keys whose messages are off
	received []Received
}

// New returns a simulator that knows the IO services of keys (API key -> a name for it, e.g.
// the incasso service it stands for).
func New(keys map[string]string) *IO {
	s := &IO{services: map[string]string{}, profiles: map[string]map[string]bool{}}
	for k, name := range keys {
		s.services[k] = name
	}
	return s
}

// AddProfile gives the citizen an IO profile that takes every service's messages but those of
// the services whose keys are in optedOut.
func (s *IO) AddProfile(fiscalCode string, optedOut ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := map[string]bool{}
	for _, k := range optedOut {
		off[k] = true
	}
	s.profiles[fiscalCode] = off
}

// Messages are the messages received, in the order they came.
func (s *IO) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// MessagesTo are the messages received for the citizen.
func (s *IO) MessagesTo(fiscalCode string) []Received {
	var out []Received
	for _, m := range s.Messages() {
		if m.FiscalCode == fiscalCode {
			out = append(out, m)
		}
	}
	return out
}

// Handler serves the IO API under BasePath, and under /sim/io/ the messages received (GET
// messages, ?fiscalCode= to filter) and the profiles (POST profiles {"fiscalCode", "optedOut"}).
func (s *IO) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+BasePath+"/profiles", s.withKey(s.serveProfile))
	mux.HandleFunc("POST "+BasePath+"/messages", s.withKey(s.serveSubmit))
	mux.HandleFunc("GET /sim/io/messages", func(w http.ResponseWriter, r *http.Request) {
		list := s.Messages()
		if fc := r.URL.Query().Get("fiscalCode"); fc != "" {
			list = s.MessagesTo(fc)
		}
		jsonhttp.Write(w, http.StatusOK, list)
	})
	mux.HandleFunc("POST /sim/io/profiles", func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			FiscalCode string   `json:"fiscalCode"`
			OptedOut   []string `json:"optedOut"` // the names of the services turned off
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.FiscalCode == "" {
			problem(w, http.StatusBadRequest, "want {\"fiscalCode\": ..., \"optedOut\": [service, ...]}")
			return
		}
		s.AddProfile(p.FiscalCode, s.keysOf(p.OptedOut)...)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// keysOf are the API keys of the named services.
func (s *IO) keysOf(names []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k, name := range s.services {
		if slices.Contains(names, name) {
			keys = append(keys, k)
		}
	}
	return keys
}

// withKey answers 401 to a request without the key of a known IO service.
func (s *IO) withKey(next func(w http.ResponseWriter, r *http.Request, key string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Ocp-Apim-Subscription-Key")
		s.mu.Lock()
		_, ok := s.services[key]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r, key)
	}
}

func (s *IO) serveProfile(w http.ResponseWriter, r *http.Request, key string) {
	var p struct {
		FiscalCode string `json:"fiscal_code"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&p); err != nil || p.FiscalCode == "" {
		problem(w, http.StatusBadRequest, "fiscal_code is required")
		return
	}
	s.mu.Lock()
	off, ok := s.profiles[p.FiscalCode]
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "no user found for the provided fiscal code")
		return
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{"sender_allowed": !off[key], "preferred_languages": []string{"it_IT"}})
}

func (s *IO) serveSubmit(w http.ResponseWriter, r *http.Request, key string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		problem(w, http.StatusBadRequest, "unreadable body")
		return
	}
	m := Received{Key: key, Body: body, At: time.Now()}
	var msg struct {
		FiscalCode string          `json:"fiscal_code"`
		Content    json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || msg.FiscalCode == "" || json.Unmarshal(msg.Content, &m.Content) != nil ||
		len(m.Content.Subject) < 10 || len(m.Content.Markdown) < 80 {
		problem(w, http.StatusBadRequest, "a message needs fiscal_code and content with subject (10+) and markdown (80+)")
		return
	}
	m.FiscalCode = msg.FiscalCode
	s.mu.Lock()
	defer s.mu.Unlock()
	// As IO does: a message only to a profile that takes the service's messages.
	if off, ok := s.profiles[m.FiscalCode]; !ok || off[key] {
		problem(w, http.StatusInternalServerError, "the message cannot be delivered")
		return
	}
	m.ID, m.Service = newID(), s.services[key]
	s.received = append(s.received, m)
	w.Header().Set("Location", BasePath+"/messages/"+m.FiscalCode+"/"+m.ID)
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"id": m.ID})
}

// newID is a message id like IO's (a ULID's 26 characters of Crockford base 32).
func newID() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 26)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json") // the spec answers its ProblemJson so
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
