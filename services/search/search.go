// Package search finds debts by what the finance office knows of them: the filters of
// GET /v1/debts and POST /v1/debts/search (and of the console and the exports), validated
// with the name of each parameter, the totals of the whole filter, keyset pages behind an
// opaque cursor, and exports streamed as CSV or JSON Lines.
package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/fiscalcode"
	"incasso/domain/money"
	"incasso/services/debts"
	"incasso/services/fault"
	"incasso/workflows"
)

// Page sizes: DefaultLimit when none is asked, at most MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Sorts are the orders a search may ask for; a leading "-" is descending. Ties are broken by
// the debt's id in the same direction.
var Sorts = []string{"due", "-due", "amount", "-amount", "updated", "-updated"}

// Request is a search as a client asks it, in a JSON body or as query parameters of the
// same names (status repeated or comma-separated). Every filter is optional.
type Request struct {
	Debtor             string   `json:"debtor,omitempty"` // the debtor's fiscal code (never in a URL)
	Service            string   `json:"service,omitempty"`
	Status             []string `json:"status,omitempty"`
	Campaign           int64    `json:"campaign,omitempty"`
	DueFrom            string   `json:"dueFrom,omitempty"`
	DueTo              string   `json:"dueTo,omitempty"`
	IssuedFrom         string   `json:"issuedFrom,omitempty"`
	IssuedTo           string   `json:"issuedTo,omitempty"`
	AmountMinCents     *int64   `json:"amountMinCents,omitempty"`
	AmountMaxCents     *int64   `json:"amountMaxCents,omitempty"`
	OverdueSince       string   `json:"overdueSince,omitempty"` // unpaid and due before this date
	InInstalments      *bool    `json:"inInstalments,omitempty"`
	HasFlaggedReceipts *bool    `json:"hasFlaggedReceipts,omitempty"`
	IUPDPrefix         string   `json:"iupdPrefix,omitempty"`
	// Reconciliation keeps the debts with a paid receipt in this reconciliation state:
	// UNMATCHED, MATCHED_FLOW, RECONCILED or DIFFERENCE.
	Reconciliation string `json:"reconciliation,omitempty"`
	Sort           string `json:"sort,omitempty"`
	Cursor         string `json:"cursor,omitempty"`
	Limit          int    `json:"limit,omitempty"`
}

// FromQuery reads a Request from query parameters, naming each one it cannot read. An
// unknown parameter is an error too: a filter misspelt must not widen the search silently.
func FromQuery(v url.Values) (Request, []fault.FieldError) {
	var r Request
	var errs []fault.FieldError
	add := func(field, msg string) { errs = append(errs, fault.FieldError{Field: field, Message: msg}) }
	integer := func(name string) *int64 {
		s := v.Get(name)
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			add(name, "must be a whole number")
			return nil
		}
		return &n
	}
	boolean := func(name string) *bool {
		switch v.Get(name) {
		case "":
			return nil
		case "true":
			t := true
			return &t
		case "false":
			f := false
			return &f
		}
		add(name, "must be true or false")
		return nil
	}
	for name := range v {
		if !knownParameter(name) {
			add(name, "unknown parameter")
		}
	}
	r.Debtor, r.Service, r.IUPDPrefix = v.Get("debtor"), v.Get("service"), v.Get("iupdPrefix")
	r.Reconciliation = v.Get("reconciliation")
	for _, s := range v["status"] {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				r.Status = append(r.Status, part)
			}
		}
	}
	if n := integer("campaign"); n != nil {
		if r.Campaign = *n; r.Campaign == 0 {
			add("campaign", "must be a campaign id")
		}
	}
	r.DueFrom, r.DueTo, r.IssuedFrom, r.IssuedTo = v.Get("dueFrom"), v.Get("dueTo"), v.Get("issuedFrom"), v.Get("issuedTo")
	r.OverdueSince = v.Get("overdueSince")
	r.AmountMinCents, r.AmountMaxCents = integer("amountMinCents"), integer("amountMaxCents")
	r.InInstalments, r.HasFlaggedReceipts = boolean("inInstalments"), boolean("hasFlaggedReceipts")
	r.Sort, r.Cursor = v.Get("sort"), v.Get("cursor")
	if n := integer("limit"); n != nil {
		if r.Limit = int(*n); r.Limit == 0 {
			r.Limit = -1 // refused by Validate, not taken for the default
		}
	}
	return r, errs
}

func knownParameter(name string) bool {
	switch name {
	case "debtor", "service", "status", "campaign", "dueFrom", "dueTo", "issuedFrom", "issuedTo",
		"amountMinCents", "amountMaxCents", "overdueSince", "inInstalments", "hasFlaggedReceipts",
		"iupdPrefix", "reconciliation", "sort", "cursor", "limit":
		return true
	}
	return false
}

// Query is a validated search.
type Query struct {
	Filter
	Sort  string
	After *Cursor // the last debt of the previous page, nil for the first
	Limit int
}

// Filter is what a debt must match; zero fields match every debt.
type Filter struct {
	Debtor                 string
	Service                string
	Statuses               []workflows.DebtStatus
	Campaign               int64
	DueFrom, DueTo         date.Date
	IssuedFrom, IssuedTo   date.Date
	AmountMin, AmountMax   *money.Cents
	OverdueSince           date.Date
	InInstalments, Flagged *bool
	IUPDPrefix             string
	Reconciliation         string // a receipt's reconciliation state
}

// Validate checks every field of r and returns the query, or one FieldError per invalid
// field. Messages never repeat the values, which may be personal data.
func (r Request) Validate(services config.Services) (Query, []fault.FieldError) {
	q := Query{Sort: r.Sort, Limit: r.Limit}
	var errs []fault.FieldError
	add := func(field, msg string) { errs = append(errs, fault.FieldError{Field: field, Message: msg}) }
	if q.Debtor = fiscalcode.Normalize(r.Debtor); q.Debtor != "" {
		if _, err := fiscalcode.Validate(q.Debtor); err != nil {
			add("debtor", "not a valid codice fiscale or partita IVA: "+strings.TrimPrefix(err.Error(), fiscalcode.ErrInvalid.Error()+": "))
		}
	}
	if q.Service = strings.TrimSpace(r.Service); q.Service != "" {
		if _, ok := services.Find(q.Service); !ok {
			add("service", "not a service of this comune")
		}
	}
	for i, s := range r.Status {
		st := workflows.DebtStatus(strings.ToUpper(strings.TrimSpace(s)))
		if !knownStatus(st) {
			add(fmt.Sprintf("status[%d]", i), "must be one of CREATED, ISSUED, OVERDUE, INSTALMENTS, PAID, CANCELLED, SUPERSEDED")
			continue
		}
		q.Statuses = append(q.Statuses, st)
	}
	if q.Campaign = r.Campaign; q.Campaign < 0 {
		add("campaign", "must be a campaign id")
	}
	dates := []struct {
		name  string
		value string
		to    *date.Date
	}{
		{"dueFrom", r.DueFrom, &q.DueFrom}, {"dueTo", r.DueTo, &q.DueTo},
		{"issuedFrom", r.IssuedFrom, &q.IssuedFrom}, {"issuedTo", r.IssuedTo, &q.IssuedTo},
		{"overdueSince", r.OverdueSince, &q.OverdueSince},
	}
	for _, d := range dates {
		if d.value == "" {
			continue
		}
		v, err := date.Parse(d.value)
		if err != nil {
			add(d.name, "must be a date as YYYY-MM-DD")
		}
		*d.to = v
	}
	if !q.DueFrom.IsZero() && !q.DueTo.IsZero() && q.DueTo.Before(q.DueFrom) {
		add("dueTo", "is before dueFrom")
	}
	if !q.IssuedFrom.IsZero() && !q.IssuedTo.IsZero() && q.IssuedTo.Before(q.IssuedFrom) {
		add("issuedTo", "is before issuedFrom")
	}
	for _, a := range []struct {
		name  string
		value *int64
		to    **money.Cents
	}{{"amountMinCents", r.AmountMinCents, &q.AmountMin}, {"amountMaxCents", r.AmountMaxCents, &q.AmountMax}} {
		if a.value == nil {
			continue
		}
		if *a.value < 0 || *a.value > int64(debts.MaxAmount) {
			add(a.name, fmt.Sprintf("must be from 0 to %d cents", debts.MaxAmount))
		}
		c := money.Cents(*a.value)
		*a.to = &c
	}
	if q.AmountMin != nil && q.AmountMax != nil && *q.AmountMax < *q.AmountMin {
		add("amountMaxCents", "is less than amountMinCents")
	}
	q.InInstalments, q.Flagged = r.InInstalments, r.HasFlaggedReceipts
	if q.IUPDPrefix = r.IUPDPrefix; q.IUPDPrefix != "" && !debts.ValidIUPD(q.IUPDPrefix) {
		add("iupdPrefix", "must be 1 to 35 characters among A-Z a-z 0-9 . _ -")
	}
	switch q.Reconciliation = r.Reconciliation; q.Reconciliation {
	case "", "UNMATCHED", "MATCHED_FLOW", "RECONCILED", "DIFFERENCE":
	default:
		add("reconciliation", "must be UNMATCHED, MATCHED_FLOW, RECONCILED or DIFFERENCE")
	}
	if q.Sort == "" {
		q.Sort = "due"
	} else if !knownSort(q.Sort) {
		add("sort", "must be one of "+strings.Join(Sorts, ", "))
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
	}
	if r.Cursor != "" {
		c, err := decodeCursor(r.Cursor)
		switch {
		case err != nil:
			add("cursor", "must be the cursor of a previous page")
		case c.Sort != q.Sort:
			add("cursor", "belongs to a search with another sort")
		default:
			q.After = &c
		}
	}
	return q, errs
}

func knownStatus(s workflows.DebtStatus) bool {
	switch s {
	case workflows.StatusCreated, workflows.StatusIssued, workflows.StatusOverdue, workflows.StatusInstalments,
		workflows.StatusPaid, workflows.StatusCancelled, workflows.StatusSuperseded:
		return true
	}
	return false
}

func knownSort(s string) bool {
	for _, k := range Sorts {
		if s == k {
			return true
		}
	}
	return false
}

// Cursor is where a page ended: the sort key and id of its last debt.
type Cursor struct {
	Sort    string      `json:"s"`
	Due     date.Date   `json:"d,omitzero"`
	Amount  money.Cents `json:"a,omitempty"`
	Updated time.Time   `json:"u,omitzero"`
	ID      int64       `json:"i"`
}

// String encodes the cursor for the client, who passes it back as it is.
func (c Cursor) String() string {
	b, _ := json.Marshal(c) // of plain values: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if c.ID < 1 || !knownSort(c.Sort) {
		return c, fmt.Errorf("cursor out of range")
	}
	return c, nil
}

// Debt is a debt as a search lists it.
type Debt struct {
	ID               int64                `json:"-"`
	IUPD             string               `json:"iupd"`
	ServiceCode      string               `json:"serviceCode"`
	Status           workflows.DebtStatus `json:"status"`
	NoticeNumber     string               `json:"noticeNumber"`
	DebtorType       string               `json:"debtorType"`
	DebtorFiscalCode string               `json:"debtorFiscalCode"`
	DebtorName       string               `json:"debtorName"`
	AmountCents      money.Cents          `json:"amountCents"`
	CollectedCents   money.Cents          `json:"collectedCents"`
	OutstandingCents money.Cents          `json:"outstandingCents"`
	DueDate          date.Date            `json:"dueDate"`
	CampaignID       int64                `json:"campaignId,omitempty"`
	InInstalments    bool                 `json:"inInstalments"`
	FlaggedReceipts  int                  `json:"flaggedReceipts"`
	IssuedAt         *time.Time           `json:"issuedAt,omitempty"`
	UpdatedAt        time.Time            `json:"updatedAt"`
}

// Totals sum every debt a filter matches: issued is what they ask, collected what their
// receipts and paid instalments brought in, outstanding what the open ones (CREATED, ISSUED,
// OVERDUE, INSTALMENTS) still owe.
type Totals struct {
	Debts            int64       `json:"debts"`
	IssuedCents      money.Cents `json:"issuedCents"`
	CollectedCents   money.Cents `json:"collectedCents"`
	OutstandingCents money.Cents `json:"outstandingCents"`
}

// Page is one page of a search, with the totals of the whole filter. Next is the cursor of
// the following page, empty on the last.
type Page struct {
	Debts  []Debt `json:"debts"`
	Totals Totals `json:"totals"`
	Next   string `json:"next,omitempty"`
}

// Searcher runs searches on the debts of one creditor.
type Searcher struct {
	Pool         *pgxpool.Pool
	ECFiscalCode string
}

// Search returns the page of q and the totals of its filter, read in one snapshot: the totals
// first, since how many debts match says how to read the page.
func (s Searcher) Search(ctx context.Context, q Query) (Page, error) {
	page := Page{Debts: []Debt{}}
	err := s.inSnapshot(ctx, func(tx pgx.Tx, dq *dbgen.Queries) error {
		var err error
		if page.Totals, err = s.totalsOf(ctx, dq, q.Filter); err != nil {
			return err
		}
		rows, err := readPage(ctx, tx, s.pageParams(q, q.After, q.Limit+1), page.Totals.Debts, issuedByDue(q))
		if err != nil {
			return fmt.Errorf("search debts: %w", err)
		}
		for i, row := range rows {
			if i == q.Limit {
				page.Next = cursorAfter(q.Sort, page.Debts[i-1]).String()
				break
			}
			page.Debts = append(page.Debts, debtOf(row))
		}
		return nil
	})
	return page, err
}

// readPage reads a page of p's filter, which matches matches debts. It walks the sort's index,
// quick when the matches are spread along it, but slow when the filter's column follows the
// sort's (debts issued in a month all fall due some weeks later: the walk went through most of
// a million rows, seconds). So when the filter matches few enough debts to sort, the walk gets
// walkBudget, in a savepoint; past it, it is cancelled and the matches are read by the
// filters' indexes and sorted instead (SortMatches). A filter on the issue date sorted by due
// date (sortFirst) skips the walk: the walk always follows it, and its index carries every
// sort's key, so the sort is an index-only scan (make bench: the walk's 25 ms were half of
// such a page). The page is the last statement of the snapshot: the budget stays set after a
// walk in time.
func readPage(ctx context.Context, tx pgx.Tx, p dbgen.SearchDebtsParams, matches int64, sortFirst bool) ([]dbgen.SearchDebtsRow, error) {
	if matches > sortMatchesUpTo {
		return dbgen.New(tx).SearchDebts(ctx, p)
	}
	if sortFirst {
		p.SortMatches = true
		return dbgen.New(tx).SearchDebts(ctx, p)
	}
	var rows []dbgen.SearchDebtsRow
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		q := dbgen.New(sp)
		if err := q.SetStatementTimeout(ctx, walkBudget); err != nil {
			return err
		}
		var err error
		rows, err = q.SearchDebts(ctx, p)
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != queryCanceled {
		return rows, err
	}
	p.SortMatches = true
	return dbgen.New(tx).SearchDebts(ctx, p)
}

// issuedByDue tells whether q filters on the issue date and sorts by due date, whose walk
// follows the issue date (a sort by amount or update finds the matches spread along its index).
func issuedByDue(q Query) bool {
	return (!q.IssuedFrom.IsZero() || !q.IssuedTo.IsZero()) && strings.TrimPrefix(q.Sort, "-") == "due"
}

// sortMatchesUpTo is how many matches a page may sort (reading and sorting 50,000 rows takes
// some tens of milliseconds), and walkBudget how long the walk of the sort's index may take
// before they are.
const (
	sortMatchesUpTo = 50_000
	walkBudget      = "25ms"
	queryCanceled   = "57014" // SQLSTATE of a statement past its statement_timeout
)

// Totals returns the totals of the debts f matches.
func (s Searcher) Totals(ctx context.Context, f Filter) (Totals, error) {
	var t Totals
	err := s.inSnapshot(ctx, func(_ pgx.Tx, dq *dbgen.Queries) error {
		var err error
		t, err = s.totalsOf(ctx, dq, f)
		return err
	})
	return t, err
}

func totals(ctx context.Context, dq *dbgen.Queries, p dbgen.SearchTotalsParams) (Totals, error) {
	t, err := dq.SearchTotals(ctx, p)
	if err != nil {
		return Totals{}, fmt.Errorf("search totals: %w", err)
	}
	return Totals{Debts: t.Debts, IssuedCents: money.Cents(t.IssuedCents),
		CollectedCents: money.Cents(t.CollectedCents), OutstandingCents: money.Cents(t.OutstandingCents)}, nil
}

// inSnapshot runs fn in a read-only repeatable-read transaction planned with custom plans.
func (s Searcher) inSnapshot(ctx context.Context, fn func(pgx.Tx, *dbgen.Queries) error) error {
	return pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		dq := dbgen.New(tx)
		if err := dq.SetCustomPlans(ctx); err != nil {
			return fmt.Errorf("custom plans: %w", err)
		}
		return fn(tx, dq)
	})
}

func cursorAfter(sort string, d Debt) Cursor {
	c := Cursor{Sort: sort, ID: d.ID}
	switch strings.TrimPrefix(sort, "-") {
	case "due":
		c.Due = d.DueDate
	case "amount":
		c.Amount = d.AmountCents
	case "updated":
		c.Updated = d.UpdatedAt
	}
	return c
}

func debtOf(r dbgen.SearchDebtsRow) Debt {
	d := Debt{
		ID: r.ID, IUPD: r.Iupd, ServiceCode: r.ServiceCode, Status: r.Status, NoticeNumber: r.Nav,
		DebtorType: r.DebtorType, DebtorFiscalCode: r.DebtorFiscalCode, DebtorName: r.DebtorName,
		AmountCents: money.Cents(r.AmountCents), CollectedCents: money.Cents(r.CollectedCents),
		DueDate: date.Of(r.DueDate), CampaignID: r.CampaignID.Int64, InInstalments: r.InInstalments,
		FlaggedReceipts: int(r.FlaggedReceipts), UpdatedAt: r.UpdatedAt.Time,
	}
	if r.IssuedAt.Valid {
		t := r.IssuedAt.Time
		d.IssuedAt = &t
	}
	if open(d.Status) && d.CollectedCents < d.AmountCents {
		d.OutstandingCents = d.AmountCents - d.CollectedCents
	}
	return d
}

// open reports whether a debt in status s still owes what it has not collected.
func open(s workflows.DebtStatus) bool {
	switch s {
	case workflows.StatusCreated, workflows.StatusIssued, workflows.StatusOverdue, workflows.StatusInstalments:
		return true
	}
	return false
}

func (s Searcher) totalsParams(f Filter) dbgen.SearchTotalsParams {
	p := dbgen.SearchTotalsParams{EcFiscalCode: s.ECFiscalCode, Statuses: []string{}}
	for _, st := range f.Statuses {
		p.Statuses = append(p.Statuses, string(st))
	}
	p.Debtor = text(f.Debtor)
	p.Service = text(f.Service)
	p.CampaignID = pgtype.Int8{Int64: f.Campaign, Valid: f.Campaign != 0}
	p.DueFrom, p.DueTo = pgDate(f.DueFrom), pgDate(f.DueTo)
	if !f.IssuedFrom.IsZero() {
		from := time.Date(f.IssuedFrom.Year, f.IssuedFrom.Month, f.IssuedFrom.Day, 0, 0, 0, 0, date.Rome)
		p.IssuedFrom = pgtype.Timestamptz{Time: from, Valid: true}
	}
	if !f.IssuedTo.IsZero() {
		p.IssuedBefore = pgtype.Timestamptz{Time: f.IssuedTo.EndIn(date.Rome), Valid: true}
	}
	p.AmountMin, p.AmountMax = cents(f.AmountMin), cents(f.AmountMax)
	p.OverdueBefore = pgDate(f.OverdueSince)
	p.InInstalments, p.Flagged = boolean(f.InInstalments), boolean(f.Flagged)
	p.Reconciliation = text(f.Reconciliation)
	if f.IUPDPrefix != "" {
		p.IupdLike = text(strings.ReplaceAll(f.IUPDPrefix, "_", `\_`) + "%")
	}
	return p
}

// pageParams are the parameters of up to limit debts of q's filter in its order after the
// cursor (nil: from the first).
func (s Searcher) pageParams(q Query, after *Cursor, limit int) dbgen.SearchDebtsParams {
	t := s.totalsParams(q.Filter)
	p := dbgen.SearchDebtsParams{
		EcFiscalCode: t.EcFiscalCode, Debtor: t.Debtor, Service: t.Service, Statuses: t.Statuses,
		CampaignID: t.CampaignID, DueFrom: t.DueFrom, DueTo: t.DueTo, IssuedFrom: t.IssuedFrom,
		IssuedBefore: t.IssuedBefore, AmountMin: t.AmountMin, AmountMax: t.AmountMax,
		OverdueBefore: t.OverdueBefore, InInstalments: t.InInstalments, Flagged: t.Flagged,
		IupdLike: t.IupdLike, Reconciliation: t.Reconciliation, Sort: q.Sort, MaxRows: int32(limit),
	}
	if after != nil {
		p.AfterID = pgtype.Int8{Int64: after.ID, Valid: true}
		p.AfterDue = pgDate(after.Due)
		p.AfterAmount = pgtype.Int8{Int64: int64(after.Amount), Valid: true}
		p.AfterUpdated = pgtype.Timestamptz{Time: after.Updated, Valid: true}
	}
	return p
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func pgDate(d date.Date) pgtype.Date {
	return pgtype.Date{Time: d.Time(), Valid: !d.IsZero()}
}

func cents(c *money.Cents) pgtype.Int8 {
	if c == nil {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: int64(*c), Valid: true}
}

func boolean(b *bool) pgtype.Bool {
	if b == nil {
		return pgtype.Bool{}
	}
	return pgtype.Bool{Bool: *b, Valid: true}
}
