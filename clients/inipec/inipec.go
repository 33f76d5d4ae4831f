// Package inipec looks up a company's digital domicile (its PEC) in INI-PEC, InfoCamere's
// national index of business and professional PEC addresses, by fiscal code or VAT number, as
// devstack/specs/citizen/infocamere-inipec.yaml describes it: a token from /authentication, a
// request of the list (/richiestaElencoPec, asynchronous) and its answer polled at
// /getElencoPec/{identificativoRichiesta} until InfoCamere has it. The answer is returned with
// its exact bytes, archived by the caller as proof. Fiscal codes travel in request bodies,
// never in an error's message.
package inipec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"incasso/clients/internal/httpcore"
)

// Errors a caller tells apart.
var (
	// ErrRejected is a 4xx other than 429: retrying the same request will not help.
	ErrRejected = errors.New("request rejected by INI-PEC")
	// ErrPending is a list InfoCamere is still preparing: ask again later.
	ErrPending = errors.New("INI-PEC list not ready yet")
)

// CodePending is the code with which getElencoPec answers a list still being prepared.
const CodePending = "WSPA_ERR_05"

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// Option configures a client.
type Option = httpcore.Option

// Config is how incasso is known to InfoCamere.
type Config struct {
	BaseURL   string
	ClientID  string // client_id of every call
	Assertion string // the signed client assertion /authentication exchanges for a token
	Scope     string // the scope header of the PEC calls
	Timeout   time.Duration
}

// Client calls INI-PEC. It is safe for concurrent use.
type Client struct {
	cfg  Config
	opts []Option

	mu   sync.Mutex
	core *httpcore.Client // with the current token; nil until one is got, or once it expired
}

// New returns a client of INI-PEC.
func New(cfg Config, opts ...Option) *Client { return &Client{cfg: cfg, opts: opts} }

// Answer is what INI-PEC said of a fiscal code: the company's PEC (empty when none) and the
// exact bytes of the list it came in.
type Answer struct {
	Found   bool
	Address string
	Raw     []byte
}

// Lookup requests the PEC of the company with the fiscal code (or VAT number) and polls for
// the list every interval until it is ready or ctx ends.
func (c *Client) Lookup(ctx context.Context, fiscalCode string, interval time.Duration) (Answer, error) {
	id, err := c.Request(ctx, fiscalCode)
	if err != nil {
		return Answer{}, err
	}
	for {
		a, err := c.Poll(ctx, id, fiscalCode)
		if !errors.Is(err, ErrPending) {
			return a, err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return Answer{}, fmt.Errorf("inipec get list: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Request asks InfoCamere for the PEC of the fiscal codes and returns the request's id. The
// body is a JSON string holding the request, as the spec types it.
func (c *Client) Request(ctx context.Context, fiscalCodes ...string) (string, error) {
	type cf struct {
		CF string `json:"cf"`
	}
	req := struct {
		DataOraRichiesta string `json:"dataOraRichiesta"`
		ElencoCf         []cf   `json:"elencoCf"`
	}{DataOraRichiesta: time.Now().UTC().Format("2006-01-02T15:04:05")}
	for _, f := range fiscalCodes {
		req.ElencoCf = append(req.ElencoCf, cf{f})
	}
	inner, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("inipec request list: %w", err)
	}
	var out struct {
		IdentificativoRichiesta string `json:"identificativoRichiesta"`
	}
	if err := c.call(ctx, "request list", http.MethodPost, "/richiestaElencoPec", string(inner), &out); err != nil {
		return "", err
	}
	if out.IdentificativoRichiesta == "" {
		return "", errors.New("inipec request list: no identificativoRichiesta in the answer")
	}
	return out.IdentificativoRichiesta, nil
}

// Poll returns the PEC of fiscalCode in the list of request id, or ErrPending.
func (c *Client) Poll(ctx context.Context, id, fiscalCode string) (Answer, error) {
	var raw json.RawMessage
	if err := c.call(ctx, "get list", http.MethodGet, "/getElencoPec/"+url.PathEscape(id), nil, &raw); err != nil {
		return Answer{}, err
	}
	var list struct {
		Code      string `json:"code"`
		ElencoPec []struct {
			CF         string `json:"cf"`
			PecImpresa string `json:"pecImpresa"`
		} `json:"elencoPec"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return Answer{}, fmt.Errorf("inipec get list: decode answer: %w", err)
	}
	if list.Code == CodePending {
		return Answer{}, ErrPending
	}
	for _, p := range list.ElencoPec {
		if strings.EqualFold(p.CF, fiscalCode) && p.PecImpresa != "" {
			return Answer{Found: true, Address: p.PecImpresa, Raw: raw}, nil
		}
	}
	return Answer{Raw: raw}, nil
}

// call makes one call with the token, getting one first and again once when it has expired.
func (c *Client) call(ctx context.Context, op, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		core, err := c.authorized(ctx)
		if err != nil {
			return err
		}
		err = doJSON(ctx, core, op, method, path+"?client_id="+url.QueryEscape(c.cfg.ClientID), in, out, c.cfg.Scope)
		var e *httpcore.Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			c.mu.Lock()
			c.core = nil
			c.mu.Unlock()
			continue
		}
		return err
	}
}

// authorized returns the client that carries the current token, getting one when there is none.
func (c *Client) authorized(ctx context.Context) (*httpcore.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.core != nil {
		return c.core, nil
	}
	// The spec puts every operation, /authentication included, under bearer security: the
	// assertion is the bearer of its own exchange.
	auth := c.client("Bearer " + c.cfg.Assertion)
	var token string
	err := doJSON(ctx, auth, "authenticate", http.MethodPost, "/authentication?client_id="+url.QueryEscape(c.cfg.ClientID), c.cfg.Assertion, &token, "")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("inipec authenticate: empty token")
	}
	c.core = c.client("Bearer " + token)
	return c.core, nil
}

func (c *Client) client(authorization string) *httpcore.Client {
	return httpcore.New(httpcore.Config{
		Service: "inipec", BaseURL: c.cfg.BaseURL, KeyHeader: "Authorization", Key: authorization,
		Timeout: c.cfg.Timeout, MaxAnswer: maxAnswer, Kind: kind,
	}, c.opts...)
}

// doJSON sends in (if not nil) as JSON and decodes the answer into out.
func doJSON(ctx context.Context, core *httpcore.Client, op, method, path string, in, out any, scope string) error {
	call := httpcore.Call{Op: op, Method: method, Path: path, Header: http.Header{}}
	if scope != "" {
		call.Header.Set("scope", scope)
	}
	return core.DoJSON(ctx, call, in, out)
}

func kind(status int) error {
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return ErrRejected
	}
	return nil
}

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }
