// Package banksim simulates the creditor's bank for SEPA Direct Debit, on the generic
// corporate-banking REST API of bankgw.HTTP, for `make run` and the tests. It takes pain.008
// collection files, answers each with a pain.002 status report after a delay, and publishes
// camt.054 notifications of returns and refunds. Tests script the bank's answers: transactions
// rejected by mandate, whole files rejected, rejects drawn at configured rates, returns and
// refunds on demand.
//
// The treasury account's statement (camt.053) books each collection file's credit, in one
// entry of the collections not rejected, on the day its report is ready; each return or
// refund as a debit; and each pagoPA flow's credit transfer, for the flows of Config.Flows
// (under `make run`, those the pagoPA simulator published) and those a test asks for, with
// the faults of a credit split in several bookings or never made. A day's statement is published
// when asked (POST /sim/bank/statements), the balance carried from one to the next.
//
// Rejects are decided when a file arrives, first by the scripted rules (POST /sim/bank/rules),
// then by Config.RejectRates: a transaction is rejected with the first code, in sorted order,
// whose rate exceeds a number in [0,1) drawn from a hash of the seed, its EndToEndId and the
// code. So the same seed rejects the same transactions, whatever the order and the files they
// come in. The report is made once, when the file arrives, and served unchanged once
// Config.Delay has elapsed.
//
// State is in memory only, guarded by a mutex: a restart of the simulator loses every file,
// rule and notification. Logs carry message ids, counts and reason codes, never names or IBANs.
package banksim

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/money"
	"incasso/domain/sepa/camt053"
)

// Config is the behaviour of the simulated bank. The zero value is a bank that accepts
// everything after two seconds, from any caller.
type Config struct {
	Delay       time.Duration      // how long after a submission the pain.002 becomes available; 0 means 2s, < 0 at once
	Seed        int64              // seed of the reject draws, for reproducible rejects
	RejectRates map[string]float64 // reason code -> probability, e.g. {"AM04": 0.1}
	APIKey      string             // the bearer token callers must present; "" accepts any non-empty one
	IBAN        string             // the treasury account of the statements; "" means a fixed Italian one
	// Flows are the pagoPA flows the PSPs credit (the pagoPA simulator's, with their totals):
	// each is credited once, on the day of the first statement after it appears; nil: none.
	Flows  func() []Credit
	Now    func() time.Time // the clock, for tests; nil means time.Now
	Logger *slog.Logger     // nil means slog.Default()
}

// Bank is the simulated bank. It is safe for concurrent use.
type Bank struct {
	cfg   Config
	rates []rate // Config.RejectRates, by code

	mu            sync.Mutex
	files         map[string]*file // by MsgId
	order         []*file          // in order of arrival
	txs           map[string]*tx   // by EndToEndId, the latest transaction with it
	rules         []Rule
	fileRejects   FileReject
	notifications []notification  // oldest first
	statements    []notification  // camt.053, oldest first
	pending       []camt053.Entry // entries of the next statement
	balance       money.Cents     // of the treasury account after the last statement
	refs          int             // entry references given
	credited      map[string]bool // the flows credited (or never to be: a fault), by id
}

// New returns a bank that has received nothing.
func New(cfg Config) *Bank {
	if cfg.Delay == 0 {
		cfg.Delay = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Bank{cfg: cfg, rates: sortedRates(cfg.RejectRates), files: map[string]*file{}, txs: map[string]*tx{}, credited: map[string]bool{}}
}

// Handler serves the bank's API, which needs "Authorization: Bearer <key>", and the /sim/
// controls, which need nothing:
//
//	POST   /bank/sdd/files                a pain.008.001.08 or .02 file: 202 new, 200 the same
//	                                      bytes again, 409 its MsgId with other bytes, 400
//	                                      invalid (or not the MsgId of header X-Message-Id, if
//	                                      sent), 413 larger than 256 MB
//	GET    /bank/sdd/reports/{msgId}      200 the pain.002 (application/xml), 202 with
//	                                      Retry-After until Delay has elapsed, 404 unknown file
//	GET    /bank/notifications?after=&limit=
//	                                      200 {"notifications":[{"id":"...","xml":"<base64>"}]},
//	                                      the camt.054 published after id after, oldest first,
//	                                      at most limit (default 100, at most 1000); ids are
//	                                      zero-padded so that they sort
//	GET    /bank/statements?after=&limit= 200 {"statements":[{"id":"...","xml":"<base64>"}]},
//	                                      the camt.053 of the treasury account, paged the same way
//	POST   /sim/bank/rules                JSON Rule: reject the next transactions of a mandate
//	DELETE /sim/bank/rules                forget every rule and pending file reject
//	POST   /sim/bank/file-reject          JSON FileReject: reject the next whole files
//	POST   /sim/bank/returns              JSON Return: a collected transaction comes back, 201
//	                                      {"id":"<notification id>"}; 404 unknown transaction,
//	                                      409 rejected, not collected yet or already returned
//	GET    /sim/bank/files                JSON []FileSummary, in order of arrival
//	POST   /sim/bank/credits              JSON Credit: a PSP transfers a pagoPA flow, 201
//	                                      {"refs":["<entry reference>",...]}
//	POST   /sim/bank/statements           JSON CloseDay: credit the flows not credited yet (but
//	                                      for the faults) and publish the statement of a day, 201
//	                                      {"id":"<statement id>"}
//
// Errors are JSON {"error":"..."}.
func (b *Bank) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bank/sdd/files", b.auth(b.submit))
	mux.HandleFunc("GET /bank/sdd/reports/{msgId}", b.auth(b.report))
	mux.HandleFunc("GET /bank/notifications", b.auth(b.listNotifications))
	mux.HandleFunc("GET /bank/statements", b.auth(b.listStatements))
	mux.HandleFunc("POST /sim/bank/rules", b.postRule)
	mux.HandleFunc("DELETE /sim/bank/rules", b.deleteRules)
	mux.HandleFunc("POST /sim/bank/file-reject", b.postFileReject)
	mux.HandleFunc("POST /sim/bank/returns", b.postReturn)
	mux.HandleFunc("GET /sim/bank/files", b.listFiles)
	mux.HandleFunc("POST /sim/bank/credits", b.postCredit)
	mux.HandleFunc("POST /sim/bank/statements", b.postCloseDay)
	return mux
}

// auth serves only callers presenting the API key, or any key when none is configured.
func (b *Bank) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" || (b.cfg.APIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(b.cfg.APIKey)) != 1) {
			writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
		h(w, r)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	jsonhttp.Write(w, status, map[string]string{"error": msg})
}

// decode reads a small JSON control request into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}
