package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/workflows"
)

// What the finance office's web console (package console) needs from the API, as Go calls:
// the same queries, checks and effects as the REST endpoints, which use them too. Errors
// caused by the request are *Problem, as the endpoints answer them.

// Console is the web console as the API serves it: mounted under /console/, and its sessions
// are accepted by the GET endpoints of /v1 (so its pages can poll them and link to them).
type Console interface {
	http.Handler
	// SessionClient returns the API client whose valid console session r carries.
	SessionClient(r *http.Request) (client string, ok bool)
}

// ErrUnknownClient is returned for an API key or client that does not exist or is disabled.
var ErrUnknownClient = errors.New("unknown or disabled API client")

// APIClientByKey returns the name of the enabled client whose API key is key, and the
// fingerprint of that key (which changes when the key is replaced).
func (s *Server) APIClientByKey(ctx context.Context, key string) (name string, fingerprint []byte, err error) {
	c, err := dbgen.New(s.Pool).GetAPIClientByKeyHash(ctx, HashAPIKey(key))
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return "", nil, ErrUnknownClient
	} else if err != nil {
		return "", nil, err
	}
	return c.Name, keyFingerprint(HashAPIKey(key)), nil
}

// APIClientFingerprint returns the fingerprint of the enabled client's current key.
func (s *Server) APIClientFingerprint(ctx context.Context, name string) ([]byte, error) {
	c, err := dbgen.New(s.Pool).GetAPIClientByName(ctx, name)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return nil, ErrUnknownClient
	} else if err != nil {
		return nil, err
	}
	return keyFingerprint(c.KeySha256), nil
}

// keyFingerprint identifies a key without revealing its hash: 8 bytes of a hash of its hash.
func keyFingerprint(keyHash []byte) []byte {
	sum := sha256.Sum256(append([]byte("incasso console fingerprint\x00"), keyHash...))
	return sum[:8]
}

// Campaign is GET /v1/campaigns/{id}.
func (s *Server) Campaign(ctx context.Context, id int64) (CampaignProgress, error) {
	cp, err := s.loadCampaign(ctx, id)
	if err != nil {
		return CampaignProgress{}, err
	}
	return s.campaignProgress(ctx, cp)
}

// Campaigns is a page of GET /v1/campaigns: up to limit campaigns with an id below before,
// newest first.
func (s *Server) Campaigns(ctx context.Context, before int64, limit int) ([]CampaignProgress, error) {
	rows, err := dbgen.New(s.Pool).ListCampaigns(ctx, dbgen.ListCampaignsParams{BeforeID: before, MaxRows: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]CampaignProgress, 0, len(rows))
	for _, cp := range rows {
		p, err := s.campaignProgress(ctx, cp)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// LaunchCampaign is POST /v1/campaigns/{id}/launch: rate debts per second, 0 for the
// campaign's start rate.
func (s *Server) LaunchCampaign(ctx context.Context, id int64, rate int) error {
	cp, err := s.loadCampaign(ctx, id)
	if err != nil {
		return err
	}
	return s.launch(ctx, cp, rate)
}

// SignalCampaign is POST /v1/campaigns/{id}/pause, resume or cancel: signal is
// workflows.SignalCampaignPause, SignalCampaignResume or SignalCampaignCancel.
func (s *Server) SignalCampaign(ctx context.Context, id int64, signal string) error {
	switch signal {
	case workflows.SignalCampaignPause, workflows.SignalCampaignResume, workflows.SignalCampaignCancel:
	default:
		return fmt.Errorf("unknown campaign signal %q", signal)
	}
	cp, err := s.loadCampaign(ctx, id)
	if err != nil {
		return err
	}
	return s.signal(ctx, cp, signal)
}

// WithdrawCampaign is POST /v1/campaigns/{id}/withdraw.
func (s *Server) WithdrawCampaign(ctx context.Context, id int64, req WithdrawRequest) error {
	cp, err := s.loadCampaign(ctx, id)
	if err != nil {
		return err
	}
	return s.withdraw(ctx, cp, req)
}

// DayAmount is an amount collected on a day (in Rome).
type DayAmount struct {
	Day   date.Date
	Cents money.Cents
}

// CampaignCollectedByDay is what the campaign's debts collected each day a receipt arrived,
// oldest first.
func (s *Server) CampaignCollectedByDay(ctx context.Context, id int64) ([]DayAmount, error) {
	rows, err := dbgen.New(s.Pool).CampaignCollectedByDay(ctx, pgtype.Int8{Int64: id, Valid: true})
	if err != nil {
		return nil, err
	}
	out := make([]DayAmount, len(rows))
	for i, r := range rows {
		out[i] = DayAmount{Day: date.Of(r.Day), Cents: money.Cents(r.Cents)}
	}
	return out, nil
}

// CampaignDebt is one of a campaign's debts, with where to follow it.
type CampaignDebt struct {
	Row         int // its row in the campaign's file
	IUPD        string
	Status      string
	Amount      money.Cents
	DueDate     date.Date
	DebtURL     string // GET /v1/debts/{iupd}
	WorkflowURL string // its workflow in the Temporal Web UI, when the API knows where that is
}

// CampaignDebts is a page of the campaign's debts in the order of its file: up to limit of
// them, after the first offset.
func (s *Server) CampaignDebts(ctx context.Context, id int64, offset, limit int) ([]CampaignDebt, error) {
	rows, err := dbgen.New(s.Pool).CampaignDebtPage(ctx, dbgen.CampaignDebtPageParams{CampaignID: id, Skip: int32(offset), MaxRows: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]CampaignDebt, len(rows))
	for i, r := range rows {
		out[i] = CampaignDebt{
			Row: int(r.RowNo), IUPD: r.Iupd, Status: r.Status, Amount: money.Cents(r.AmountCents),
			DueDate: date.Of(r.DueDate), DebtURL: "/v1/debts/" + url.PathEscape(r.Iupd),
		}
		out[i].WorkflowURL = s.workflowURL(workflows.DebtWorkflowID(s.Config.Creditor.FiscalCode, r.Iupd))
	}
	return out, nil
}

// Today is the date in Rome by the server's clock.
func (s *Server) Today() date.Date {
	if s.Now == nil {
		return date.InRome(time.Now())
	}
	return date.InRome(s.Now())
}

func (s *Server) loadCampaign(ctx context.Context, id int64) (dbgen.Campaign, error) {
	cp, err := dbgen.New(s.Pool).GetCampaign(ctx, id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return cp, problem(http.StatusNotFound, "no campaign with this id")
	}
	return cp, err
}
