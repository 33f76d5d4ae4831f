package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/printroom"
	"incasso/workflows"
)

// LegalClock is the proof behind the debt's acts with legal weight (issue 17): the digital
// domiciles looked up, the SEND notifications with their legal facts, and the deadlines that
// run from the perfected notification of the accertamento.
type LegalClock struct {
	// NotifiedBy is how the accertamento was proven perfected: send, pec (the delivery
	// receipt) or return_card; empty until then.
	NotifiedBy   string     `json:"notifiedBy,omitempty"`
	NotifiedAt   *time.Time `json:"notifiedAt,omitempty"`
	PayBy        *date.Date `json:"payBy,omitempty"`        // the last day to pay or appeal
	HandoverFrom *date.Date `json:"handoverFrom,omitempty"` // the first day of the hand-over to enforced collection
	// Failed says why the act never reached the debtor: no hand-over then.
	Failed            string             `json:"failed,omitempty"`
	DomicileLookups   []DomicileLookup   `json:"domicileLookups"`
	SENDNotifications []SENDNotification `json:"sendNotifications"`
	LegalFacts        []LegalFact        `json:"legalFacts"`
}

// DomicileLookup is one look-up of the debtor's digital domicile, the proof of the address used.
type DomicileLookup struct {
	Step       string    `json:"step"`
	Registry   string    `json:"registry"` // INAD or INIPEC
	Found      bool      `json:"found"`
	SHA256     string    `json:"sha256"` // of the registry's exact answer, archived
	LookedUpAt time.Time `json:"lookedUpAt"`
}

// SENDNotification is an act notified through SEND.
type SENDNotification struct {
	Step        string     `json:"step"`
	IUN         string     `json:"iun,omitempty"`
	Status      string     `json:"status"`
	PerfectedAt *time.Time `json:"perfectedAt,omitempty"`
	ActSHA256   string     `json:"actSha256"`
}

// LegalFact is an attestation SEND issued, archived.
type LegalFact struct {
	Category     string    `json:"category"`
	Filename     string    `json:"filename"`
	SHA256       string    `json:"sha256"`
	DownloadedAt time.Time `json:"downloadedAt"`
}

func datePtr(d pgtype.Date) *date.Date {
	if !d.Valid {
		return nil
	}
	v := date.Of(d.Time)
	return &v
}

// legalClockOf reads the debt's proof.
func legalClockOf(ctx context.Context, q *dbgen.Queries, d dbgen.DebtPosition) (LegalClock, error) {
	lc := LegalClock{NotifiedBy: d.NotifiedBy, NotifiedAt: timePtr(d.NotifiedAt), PayBy: datePtr(d.PayBy), HandoverFrom: datePtr(d.HandoverFrom),
		Failed: d.NoticeFailed, DomicileLookups: []DomicileLookup{}, SENDNotifications: []SENDNotification{}, LegalFacts: []LegalFact{}}
	lookups, err := q.ListDomicileLookups(ctx, d.ID)
	if err != nil {
		return lc, fmt.Errorf("domicile lookups of debt %d: %w", d.ID, err)
	}
	for _, l := range lookups {
		lc.DomicileLookups = append(lc.DomicileLookups, DomicileLookup{Step: l.Step, Registry: l.Registry, Found: l.Found,
			SHA256: fmt.Sprintf("%x", l.Sha256), LookedUpAt: l.LookedUpAt.Time})
	}
	notifications, err := q.ListSendNotifications(ctx, d.ID)
	if err != nil {
		return lc, fmt.Errorf("SEND notifications of debt %d: %w", d.ID, err)
	}
	for _, n := range notifications {
		lc.SENDNotifications = append(lc.SENDNotifications, SENDNotification{Step: n.Step, IUN: n.Iun.String, Status: n.Status,
			PerfectedAt: timePtr(n.PerfectedAt), ActSHA256: fmt.Sprintf("%x", n.ActSha256)})
	}
	facts, err := q.ListLegalFacts(ctx, d.ID)
	if err != nil {
		return lc, fmt.Errorf("legal facts of debt %d: %w", d.ID, err)
	}
	for _, f := range facts {
		lc.LegalFacts = append(lc.LegalFacts, LegalFact{Category: f.Category, Filename: f.Filename, SHA256: fmt.Sprintf("%x", f.Sha256), DownloadedAt: f.DownloadedAt.Time})
	}
	return lc, nil
}

// ReturnCardRequest is the body of POST /v1/communications/{id}/return-card: what the return
// card (cartolina di ritorno) of a registered letter says.
type ReturnCardRequest struct {
	Outcome string `json:"outcome"` // delivered, or returned (undelivered)
	Date    string `json:"date"`    // the date on the card, YYYY-MM-DD
}

// ReturnCard is a return card as entered.
type ReturnCard struct {
	CommunicationID int64     `json:"communicationId"`
	Outcome         string    `json:"outcome"`
	Date            date.Date `json:"date"`
	EnteredBy       string    `json:"enteredBy"`
	EnteredAt       time.Time `json:"enteredAt"`
}

func returnCardOf(r dbgen.ReturnCard) ReturnCard {
	return ReturnCard{CommunicationID: r.CommunicationID, Outcome: r.Outcome, Date: date.Of(r.CardDate), EnteredBy: r.EnteredBy, EnteredAt: r.EnteredAt.Time}
}

// addReturnCard records the return card of a letter sent for registered post: 201, or 200 for
// the same card again; another card for the same letter is a 409. The debt's legal clock
// reads it at its next look for the proof.
func (s *Server) addReturnCard(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req ReturnCardRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var errs []FieldError
	if req.Outcome != "delivered" && req.Outcome != "returned" {
		errs = append(errs, FieldError{Field: "outcome", Message: "required: delivered or returned"})
	}
	on, err := date.Parse(req.Date)
	switch {
	case err != nil:
		errs = append(errs, FieldError{Field: "date", Message: "required: the date on the card as YYYY-MM-DD"})
	case date.InRome(s.Now()).Before(on):
		errs = append(errs, FieldError{Field: "date", Message: "must not be in the future"})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	ctx := c.Request().Context()
	q := dbgen.New(s.Pool)
	letter, err := q.GetLetter(ctx, id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no such communication")
	} else if err != nil {
		return fmt.Errorf("load communication %d: %w", id, err)
	}
	auditTarget(c, "iupd", letter.Iupd)
	if letter.Channel != channelPost || letter.Kind != workflows.StepAccertamento {
		return problem(http.StatusConflict, "the communication is not a letter for registered post (an accertamento): it has no return card")
	}
	card, err := q.InsertReturnCard(ctx, dbgen.InsertReturnCardParams{CommunicationID: id, Outcome: req.Outcome,
		CardDate: on.Time(), EnteredBy: principalOf(c).Actor()})
	if errors.Is(db.NotFound(err), db.ErrNotFound) { // a card is there already
		if card, err = q.GetReturnCard(ctx, id); err != nil {
			return fmt.Errorf("load return card of communication %d: %w", id, err)
		}
		if card.Outcome != req.Outcome || date.Of(card.CardDate) != on {
			return problem(http.StatusConflict, "another return card was entered for this letter already")
		}
		return c.JSON(http.StatusOK, returnCardOf(card))
	} else if err != nil {
		return fmt.Errorf("store return card of communication %d: %w", id, err)
	}
	return c.JSON(http.StatusCreated, returnCardOf(card))
}

// PostedRequest is the body of POST /v1/communications/{id}/posted.
type PostedRequest struct {
	Date string `json:"date"` // the day the letter was handed to the post, YYYY-MM-DD
}

// PostedLetter is a letter the print room has posted.
type PostedLetter struct {
	CommunicationID int64     `json:"communicationId"`
	Status          string    `json:"status"` // SENT
	SentAt          time.Time `json:"sentAt"`
}

// markPosted records that the print room printed and posted a letter of the archive's queue
// (GET /v1/communications?status=PRINT), as printroom.Posted does: 201, or 200 when it was
// marked with that date already.
func (s *Server) markPosted(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req PostedRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	on, err := date.Parse(req.Date)
	if err != nil && req.Date != "" {
		return invalid([]FieldError{{Field: "date", Message: "must be a date as YYYY-MM-DD"}})
	}
	letter, err := printroom.Posted(c.Request().Context(), dbgen.New(s.Pool), id, on, s.Now())
	if letter.Iupd != "" {
		auditTarget(c, "iupd", letter.Iupd)
	}
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if letter.Again {
		status = http.StatusOK
	}
	return c.JSON(status, PostedLetter{CommunicationID: id, Status: "SENT", SentAt: letter.SentAt})
}
