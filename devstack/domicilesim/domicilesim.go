// Package domicilesim simulates the registries of digital domiciles incasso looks a debtor up
// in, on their wire formats (devstack/specs/citizen/): INAD's punctual extraction for citizens
// and InfoCamere's INI-PEC for companies, whose list is asynchronous (a request, then polls
// until it is ready). A fiscal code has a domicile once Set gives it one (or POST
// /sim/domiciles); every other is found in neither.
package domicilesim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"incasso/clients/inipec"
	"incasso/devstack/internal/jsonhttp"
)

// Where the simulated registries are mounted.
const (
	INADBasePath   = "/inad/rest/inad/v1/domiciliodigitale"
	INIPECBasePath = "/inipec"
)

// Registries is the simulated INAD and INI-PEC. It is safe for concurrent use.
type Registries struct {
	// INADToken is the PDND voucher INAD's callers must present; INIPECAssertion the client
	// assertion INI-PEC exchanges for a token.
	INADToken, INIPECAssertion string
	// PendingPolls is how many polls of an INI-PEC list answer "not ready" before it is.
	PendingPolls int

	mu        sync.Mutex
	domiciles map[string]string // fiscal code -> PEC
	tokens    map[string]bool   // INI-PEC tokens issued
	requests  map[string]*listRequest
	lookups   int // extractions and lists answered
	seq       int
}

type listRequest struct {
	fiscalCodes []string
	polls       int
}

// New returns registries without any domicile.
func New(inadToken, inipecAssertion string) *Registries {
	return &Registries{INADToken: inadToken, INIPECAssertion: inipecAssertion, PendingPolls: 1,
		domiciles: map[string]string{}, tokens: map[string]bool{}, requests: map[string]*listRequest{}}
}

// Set gives the fiscal code a digital domicile; an empty address removes it.
func (r *Registries) Set(fiscalCode, address string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if address == "" {
		delete(r.domiciles, strings.ToUpper(fiscalCode))
		return
	}
	r.domiciles[strings.ToUpper(fiscalCode)] = address
}

// Lookups is how many extractions and ready lists the registries answered.
func (r *Registries) Lookups() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups
}

// Handler serves both registries and the control:
//
//	GET  INADBasePath/extract/{codice_fiscale}?practicalReference=
//	POST INIPECBasePath/authentication
//	POST INIPECBasePath/richiestaElencoPec
//	GET  INIPECBasePath/getElencoPec/{identificativoRichiesta}
//	POST /sim/domiciles  {"fiscalCode": "...", "address": "..."}: a domicile in both registries
func (r *Registries) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+INADBasePath+"/extract/{cf}", r.extract)
	mux.HandleFunc("POST "+INIPECBasePath+"/authentication", r.authenticate)
	mux.HandleFunc("POST "+INIPECBasePath+"/richiestaElencoPec", r.requestList)
	mux.HandleFunc("GET "+INIPECBasePath+"/getElencoPec/{id}", r.getList)
	mux.HandleFunc("POST /sim/domiciles", func(w http.ResponseWriter, req *http.Request) {
		var in struct{ FiscalCode, Address string }
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.FiscalCode == "" {
			http.Error(w, "want {fiscalCode, address}", http.StatusBadRequest)
			return
		}
		r.Set(in.FiscalCode, in.Address)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func inadError(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": fmt.Sprint(status), "type": typ, "detail": detail})
}

func (r *Registries) extract(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Authorization") != "Bearer "+r.INADToken {
		inadError(w, http.StatusUnauthorized, "UNAUTHORIZED", "voucher PDND non valido")
		return
	}
	if req.URL.Query().Get("practicalReference") == "" {
		inadError(w, http.StatusBadRequest, "BAD_REQUEST", "practicalReference obbligatorio")
		return
	}
	cf := strings.ToUpper(req.PathValue("cf"))
	r.mu.Lock()
	addr, ok := r.domiciles[cf]
	r.lookups++
	r.mu.Unlock()
	if !ok {
		inadError(w, http.StatusNotFound, "NOT_FOUND", "domicilio digitale non presente")
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	jsonhttp.Write(w, http.StatusOK, map[string]any{
		"codiceFiscale": cf, "since": now.Format(time.RFC3339),
		"digitalAddress": []any{map[string]any{"digitalAddress": addr,
			"usageInfo": map[string]any{"motivation": "CESSAZIONE_VOLONTARIA", "dateEndValidity": now.AddDate(10, 0, 0).Format(time.RFC3339)}}},
	})
}

func inipecError(w http.ResponseWriter, status int, message string) {
	jsonhttp.Write(w, status, map[string]string{"code": fmt.Sprint(status), "message": message})
}

// authenticate exchanges the client assertion (a JSON string) for a token (a JSON string).
func (r *Registries) authenticate(w http.ResponseWriter, req *http.Request) {
	var assertion string
	if err := json.NewDecoder(req.Body).Decode(&assertion); err != nil || assertion != r.INIPECAssertion {
		inipecError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	r.mu.Lock()
	r.seq++
	token := fmt.Sprintf("inipec-token-%d", r.seq)
	r.tokens[token] = true
	r.mu.Unlock()
	jsonhttp.Write(w, http.StatusOK, token)
}

func (r *Registries) authorized(req *http.Request) bool {
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	r.mu.Lock()
	defer r.mu.Unlock()
	return ok && r.tokens[token] && req.Header.Get("scope") != ""
}

func (r *Registries) requestList(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(req) {
		inipecError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	var inner string // the request is a JSON string holding the request's JSON
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var list struct {
		ElencoCf []struct {
			CF string `json:"cf"`
		} `json:"elencoCf"`
	}
	if json.Unmarshal(body, &inner) != nil || json.Unmarshal([]byte(inner), &list) != nil || len(list.ElencoCf) == 0 {
		inipecError(w, http.StatusBadRequest, "Richiesta non valida")
		return
	}
	lr := &listRequest{}
	for _, c := range list.ElencoCf {
		lr.fiscalCodes = append(lr.fiscalCodes, strings.ToUpper(c.CF))
	}
	r.mu.Lock()
	r.seq++
	id := fmt.Sprintf("%d", 100000000+r.seq)
	r.requests[id] = lr
	r.mu.Unlock()
	jsonhttp.Write(w, http.StatusOK, map[string]string{
		"dataOraRichiesta": time.Now().UTC().Format(time.RFC3339), "identificativoRichiesta": id})
}

func (r *Registries) getList(w http.ResponseWriter, req *http.Request) {
	if !r.authorized(req) {
		inipecError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	id := req.PathValue("id")
	r.mu.Lock()
	defer r.mu.Unlock()
	lr, ok := r.requests[id]
	if !ok {
		jsonhttp.Write(w, http.StatusOK, map[string]any{"dataOraDownload": time.Now().UTC().Format(time.RFC3339),
			"identificativoRichiesta": id, "elencoPec": []any{}, "code": "WSPA_ERR_04", "description": "Richiesta inesistente"})
		return
	}
	out := map[string]any{"dataOraDownload": time.Now().UTC().Format(time.RFC3339), "identificativoRichiesta": id}
	if lr.polls < r.PendingPolls {
		lr.polls++
		out["elencoPec"], out["code"], out["description"] = []any{}, inipec.CodePending, "Elenco in fase di elaborazione"
		jsonhttp.Write(w, http.StatusOK, out)
		return
	}
	r.lookups++
	found := []any{}
	for _, cf := range lr.fiscalCodes {
		if addr, ok := r.domiciles[cf]; ok {
			found = append(found, map[string]any{"cf": cf, "pecImpresa": addr})
		}
	}
	out["elencoPec"] = found
	jsonhttp.Write(w, http.StatusOK, out)
}
