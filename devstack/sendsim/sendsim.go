// Package sendsim simulates SEND (Piattaforma Notifiche) for incasso's development stack and
// tests, on the B2B API for public administrations (devstack/specs/citizen/send-b2b-pa.yaml):
// documents pre-loaded and uploaded to pre-signed URLs with their SHA-256 checked, notification
// requests accepted at once, and each notification perfected (EFFECTIVE_DATE) some days after
// it was sent, or ending UNREACHABLE, as scripted per recipient, with legal facts as PDFs.
// Its days are Config.Day long and its clock is Config.Now, so that tests on a compressed
// calendar or a fake clock see a notification perfected when they choose.
package sendsim

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"

	"incasso/devstack/internal/jsonhttp"
)

// Outcomes of a notification.
const (
	Perfected   = "perfected"   // delivered, then perfected after the days given
	Unreachable = "unreachable" // neither the digital nor the paper delivery reached the recipient
)

// Config is how the simulator behaves.
type Config struct {
	APIKey string
	Day    time.Duration    // how long a day lasts (zero: 24h)
	Now    func() time.Time // the clock (nil: time.Now)
	// DefaultDays is after how many days a notification is perfected unless scripted (zero: 7).
	DefaultDays int
}

// Outcome is what happens to the notifications of a recipient.
type Outcome struct {
	Outcome   string `json:"outcome"`
	AfterDays int    `json:"afterDays"`
}

// SEND is the simulated platform. It is safe for concurrent use.
type SEND struct {
	cfg Config

	mu            sync.Mutex
	seq           int
	slots         map[string]*slot            // preloaded documents by key
	outcomes      map[string]Outcome          // by recipient tax id
	notifications map[string]*notification    // by iun
	byRequest     map[string]*notification    // by notificationRequestId
	byProtocol    map[[2]string]*notification // by paProtocolNumber, idempotenceToken
	legalFacts    map[string]legalFact        // by key
}

type slot struct {
	secret, sha256 string
	content        []byte
}

type notification struct {
	request   map[string]any // the request as sent
	requestID string
	iun       string
	sentAt    time.Time
	outcome   Outcome
}

type legalFact struct{ iun, category string }

// New returns a simulator without notifications.
func New(cfg Config) *SEND {
	if cfg.Day == 0 {
		cfg.Day = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultDays == 0 {
		cfg.DefaultDays = 7
	}
	return &SEND{cfg: cfg, slots: map[string]*slot{}, outcomes: map[string]Outcome{}, notifications: map[string]*notification{},
		byRequest: map[string]*notification{}, byProtocol: map[[2]string]*notification{}, legalFacts: map[string]legalFact{}}
}

// Script sets what happens to the notifications of the recipient with the tax id from now on.
func (s *SEND) Script(taxID string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[strings.ToUpper(taxID)] = o
}

// Taxonomies are the taxonomy codes of the notifications requested, in the order they came.
func (s *SEND) Taxonomies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, s.seq)
	for i := 1; i <= s.seq; i++ {
		if n, ok := s.notifications[iun(i)]; ok {
			code, _ := n.request["taxonomyCode"].(string)
			out = append(out, code)
		}
	}
	return out
}

// comuneTaxonomy is SEND's table of the acts a comune notifies with a payment (entity 01):
// a notification under another code is refused, as SEND refuses one the entity is not
// enabled for.
var comuneTaxonomy = map[string]string{
	"010101P": "Notifiche Violazioni al Codice della Strada",
	"010102P": "Notifiche Violazioni extra CdS",
	"010201P": "Notifiche Riscossione Tributi con pagamento",
	"010301P": "Notifiche riscossione entrate patrimoniali con pagamento",
	"010401P": "Notifiche per sollecito pagamento servizi scolastici",
	"010701P": "Ordinanze Comunali con pagamento",
	"010801P": "Comunicazioni relative a riscossioni coattive e ingiunzioni fiscali",
}

// Sent is how many notifications were requested.
func (s *SEND) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byRequest)
}

// Handler serves the B2B API subset incasso uses and the controls:
//
//	POST /delivery/attachments/preload
//	PUT  /sim/send/storage/{key}                      the pre-signed upload URL
//	POST /delivery/v2.6/requests
//	GET  /delivery/v2.6/requests?paProtocolNumber=&idempotenceToken= (or notificationRequestId=)
//	GET  /delivery/v2.9/notifications/sent/{iun}
//	GET  /delivery-push/{iun}/download/legal-facts/{legalFactId}
//	GET  /sim/send/legal-facts/{key}                  the legal fact's download URL
//	POST /sim/send/outcomes  {"taxId": "...", "outcome": "perfected|unreachable", "afterDays": 3}
func (s *SEND) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("x-api-key") != s.cfg.APIKey {
				problem(w, http.StatusForbidden, "UNAUTHORIZED", "x-api-key non valida")
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /delivery/attachments/preload", api(s.preload))
	mux.HandleFunc("PUT /sim/send/storage/{key}", s.upload)
	mux.HandleFunc("POST /delivery/v2.6/requests", api(s.create))
	mux.HandleFunc("GET /delivery/v2.6/requests", api(s.requestStatus))
	mux.HandleFunc("GET /delivery/v2.9/notifications/sent/{iun}", api(s.read))
	mux.HandleFunc("GET /delivery-push/{iun}/download/legal-facts/{id}", api(s.legalFactMeta))
	mux.HandleFunc("GET /sim/send/legal-facts/{key}", s.legalFactFile)
	mux.HandleFunc("POST /sim/send/outcomes", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TaxID string `json:"taxId"`
			Outcome
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.TaxID == "" || (in.Outcome.Outcome != Perfected && in.Outcome.Outcome != Unreachable) {
			http.Error(w, `want {"taxId", "outcome": "perfected"|"unreachable", "afterDays"}`, http.StatusBadRequest)
			return
		}
		s.Script(in.TaxID, in.Outcome)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// problem answers SEND's Problem.
func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": http.StatusText(status), "detail": detail,
		"errors": []any{map[string]any{"code": code, "detail": detail}}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *SEND) preload(w http.ResponseWriter, r *http.Request) {
	var in []struct {
		PreloadIdx  string `json:"preloadIdx"`
		ContentType string `json:"contentType"`
		SHA256      string `json:"sha256"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in) == 0 {
		problem(w, http.StatusBadRequest, "PN_GENERIC_INVALIDPARAMETER", "preload requests required")
		return
	}
	out := make([]map[string]any, len(in))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range in {
		key := "PN_NOTIFICATION_ATTACHMENTS-" + randomHex(16) + ".pdf"
		sl := &slot{secret: randomHex(16), sha256: p.SHA256}
		s.slots[key] = sl
		out[i] = map[string]any{"preloadIdx": p.PreloadIdx, "secret": sl.secret, "httpMethod": "PUT",
			"url": "http://" + r.Host + "/sim/send/storage/" + key, "key": key}
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

// upload is the pre-signed URL: the secret and the SHA-256 must match what was preloaded.
func (s *SEND) upload(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[r.PathValue("key")]
	sum := sha256.Sum256(body)
	switch {
	case !ok || r.Header.Get("x-amz-meta-secret") != sl.secret:
		http.Error(w, "AccessDenied", http.StatusForbidden)
	case r.Header.Get("x-amz-checksum-sha256") != sl.sha256 || base64.StdEncoding.EncodeToString(sum[:]) != sl.sha256:
		http.Error(w, "BadDigest", http.StatusBadRequest)
	default:
		sl.content = body
		w.Header().Set("x-amz-version-id", "v1")
		w.WriteHeader(http.StatusOK)
	}
}

func (s *SEND) create(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "PN_GENERIC_INVALIDPARAMETER", "malformed request")
		return
	}
	protocol, _ := req["paProtocolNumber"].(string)
	token, _ := req["idempotenceToken"].(string)
	recipients, _ := req["recipients"].([]any)
	if len(recipients) != 1 {
		problem(w, http.StatusBadRequest, "PN_GENERIC_INVALIDPARAMETER", "one recipient expected")
		return
	}
	rec, _ := recipients[0].(map[string]any)
	taxID, _ := rec["taxId"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byProtocol[[2]string{protocol, token}]; dup {
		problem(w, http.StatusConflict, "PN_NOTIFICATION_DUPLICATED", "paProtocolNumber and idempotenceToken already used")
		return
	}
	if code, _ := req["taxonomyCode"].(string); comuneTaxonomy[code] == "" {
		problem(w, http.StatusBadRequest, "PN_GENERIC_INVALIDPARAMETER", "taxonomyCode is not one of a comune's acts with a payment")
		return
	}
	if detail := s.checkAttachments(req); detail != "" {
		problem(w, http.StatusBadRequest, "PN_NOTIFICATION_INVALID_ATTACHMENT", detail)
		return
	}
	s.seq++
	sum := sha256.Sum256([]byte(fmt.Sprint(protocol, "\x00", token, "\x00", s.seq)))
	n := &notification{request: req, requestID: base64.StdEncoding.EncodeToString(sum[:27]), iun: iun(s.seq), sentAt: s.cfg.Now()}
	n.outcome = Outcome{Outcome: Perfected, AfterDays: s.cfg.DefaultDays}
	if o, ok := s.outcomes[strings.ToUpper(taxID)]; ok {
		n.outcome = o
	}
	s.byProtocol[[2]string{protocol, token}], s.byRequest[n.requestID], s.notifications[n.iun] = n, n, n
	jsonhttp.Write(w, http.StatusAccepted, map[string]any{"notificationRequestId": n.requestID, "paProtocolNumber": protocol, "idempotenceToken": token})
}

// checkAttachments says what is wrong with the documents and payment attachments cited.
func (s *SEND) checkAttachments(req map[string]any) string {
	var atts []map[string]any
	docs, _ := req["documents"].([]any)
	for _, d := range docs {
		m, _ := d.(map[string]any)
		atts = append(atts, m)
	}
	for _, rec := range req["recipients"].([]any) {
		pays, _ := rec.(map[string]any)["payments"].([]any)
		for _, p := range pays {
			if pa, ok := p.(map[string]any)["pagoPa"].(map[string]any); ok {
				if a, ok := pa["attachment"].(map[string]any); ok {
					atts = append(atts, a)
				}
			}
		}
	}
	for i, a := range atts {
		ref, _ := a["ref"].(map[string]any)
		digests, _ := a["digests"].(map[string]any)
		key, _ := ref["key"].(string)
		sl, ok := s.slots[key]
		switch {
		case !ok || sl.content == nil:
			return fmt.Sprintf("attachment %d: not uploaded", i)
		case digests["sha256"] != sl.sha256:
			return fmt.Sprintf("attachment %d: sha256 does not match the upload", i)
		}
	}
	return ""
}

// iun makes the n-th notification number, AAAA-BBBB-CCCC-yyyymm-L-d.
func iun(n int) string {
	letters := func(k int) string {
		b := make([]byte, 4)
		for i := 3; i >= 0; i-- {
			b[i] = byte('A' + k%26)
			k /= 26
		}
		return string(b)
	}
	return fmt.Sprintf("SIMS-%s-%s-202612-%c-%d", letters(n/10000), letters(n), 'A'+n%26, n%10)
}

func (s *SEND) requestStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.byRequest[q.Get("notificationRequestId")]
	if !ok {
		n, ok = s.byProtocol[[2]string{q.Get("paProtocolNumber"), q.Get("idempotenceToken")}]
	}
	if !ok {
		problem(w, http.StatusNotFound, "PN_GENERIC_NOT_FOUND", "no such request")
		return
	}
	out := copyOf(n.request)
	out["notificationRequestId"], out["notificationRequestStatus"], out["iun"] = n.requestID, "ACCEPTED", n.iun
	jsonhttp.Write(w, http.StatusOK, out)
}

func copyOf(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+6)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *SEND) read(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notifications[r.PathValue("iun")]
	if !ok {
		problem(w, http.StatusBadRequest, "PN_GENERIC_NOT_FOUND", "no such notification")
		return
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	ack := s.fact(n.iun, "SENDER_ACK")
	timeline := []any{map[string]any{"elementId": "REQUEST_ACCEPTED.IUN_" + n.iun, "timestamp": ts(n.sentAt), "eventTimestamp": ts(n.sentAt),
		"category": "REQUEST_ACCEPTED", "legalFactsIds": []any{map[string]any{"key": ack, "category": "SENDER_ACK"}}}}
	history := []any{
		map[string]any{"status": "ACCEPTED", "activeFrom": ts(n.sentAt), "relatedTimelineElements": []any{"REQUEST_ACCEPTED.IUN_" + n.iun}},
		map[string]any{"status": "DELIVERING", "activeFrom": ts(n.sentAt), "relatedTimelineElements": []any{}},
	}
	status := "DELIVERING"
	if at := n.sentAt.Add(time.Duration(n.outcome.AfterDays) * s.cfg.Day); !s.cfg.Now().Before(at) {
		if n.outcome.Outcome == Unreachable {
			key := s.fact(n.iun, "ANALOG_FAILURE_DELIVERY")
			timeline = append(timeline, map[string]any{"elementId": "COMPLETELY_UNREACHABLE.IUN_" + n.iun, "timestamp": ts(at), "eventTimestamp": ts(at),
				"category": "COMPLETELY_UNREACHABLE", "legalFactsIds": []any{map[string]any{"key": key, "category": "ANALOG_FAILURE_DELIVERY"}}})
			history = append(history, map[string]any{"status": "UNREACHABLE", "activeFrom": ts(at), "relatedTimelineElements": []any{"COMPLETELY_UNREACHABLE.IUN_" + n.iun}})
			status = "UNREACHABLE"
		} else {
			key := s.fact(n.iun, "DIGITAL_DELIVERY")
			timeline = append(timeline,
				map[string]any{"elementId": "DIGITAL_SUCCESS_WORKFLOW.IUN_" + n.iun, "timestamp": ts(at), "eventTimestamp": ts(at),
					"category": "DIGITAL_SUCCESS_WORKFLOW", "legalFactsIds": []any{map[string]any{"key": key, "category": "DIGITAL_DELIVERY"}}},
				map[string]any{"elementId": "REFINEMENT.IUN_" + n.iun, "timestamp": ts(at), "eventTimestamp": ts(at), "category": "REFINEMENT", "legalFactsIds": []any{}})
			history = append(history,
				map[string]any{"status": "DELIVERED", "activeFrom": ts(at), "relatedTimelineElements": []any{"DIGITAL_SUCCESS_WORKFLOW.IUN_" + n.iun}},
				map[string]any{"status": "EFFECTIVE_DATE", "activeFrom": ts(at), "relatedTimelineElements": []any{"REFINEMENT.IUN_" + n.iun}})
			status = "EFFECTIVE_DATE"
		}
	}
	out := copyOf(n.request)
	out["iun"], out["sentAt"], out["notificationStatus"], out["notificationStatusHistory"], out["timeline"] = n.iun, ts(n.sentAt), status, history, timeline
	jsonhttp.Write(w, http.StatusOK, out)
}

// fact is the key of the notification's legal fact of the category, made once.
func (s *SEND) fact(iun, category string) string {
	key := "PN_LEGAL_FACTS-" + strings.ReplaceAll(iun, "-", "") + "-" + category + ".pdf"
	s.legalFacts[key] = legalFact{iun: iun, category: category}
	return key
}

func (s *SEND) legalFactMeta(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.PathValue("id"), "safestorage://")
	s.mu.Lock()
	f, ok := s.legalFacts[key]
	s.mu.Unlock()
	if !ok || f.iun != r.PathValue("iun") {
		problem(w, http.StatusNotFound, "PN_GENERIC_NOT_FOUND", "no such legal fact")
		return
	}
	pdf := legalFactPDF(f)
	jsonhttp.Write(w, http.StatusOK, map[string]any{"filename": key, "contentLength": len(pdf), "url": "http://" + r.Host + "/sim/send/legal-facts/" + key})
}

func (s *SEND) legalFactFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.legalFacts[r.PathValue("key")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, _ = w.Write(legalFactPDF(f))
}

// legalFactPDF is the attestation of the category for the notification, the same bytes each time.
func legalFactPDF(f legalFact) []byte {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 14)
	pdf.Cell(0, 10, "Attestazione opponibile a terzi (simulatore SEND)")
	pdf.Ln(12)
	pdf.SetFont("Helvetica", "", 11)
	pdf.Cell(0, 8, "Tipo: "+f.category)
	pdf.Ln(8)
	pdf.Cell(0, 8, "IUN: "+f.iun)
	var buf bytes.Buffer
	_ = pdf.Output(&buf)
	return buf.Bytes()
}
