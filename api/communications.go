package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/fiscalcode"
	"incasso/domain/pec"
	"incasso/services/debts"
)

// ArchivedCommunication is a message to a citizen as the archive keeps it (without its bytes,
// which links.eml serves).
type ArchivedCommunication struct {
	ID             int64              `json:"id"`
	IUPD           string             `json:"iupd"`
	Kind           string             `json:"kind"`
	Step           string             `json:"step"`
	Channel        string             `json:"channel"` // email, pec, post
	Sender         string             `json:"sender"`
	Recipient      string             `json:"recipient"`
	Subject        string             `json:"subject"`
	MessageID      string             `json:"messageId"`
	Status         string             `json:"status"`
	CreatedAt      time.Time          `json:"createdAt"`
	SentAt         *time.Time         `json:"sentAt,omitempty"`
	DeliveredAt    *time.Time         `json:"deliveredAt,omitempty"`
	SHA256         string             `json:"sha256"` // of the archived bytes, hex
	RetentionUntil date.Date          `json:"retentionUntil"`
	Links          CommunicationLinks `json:"links"`
}

// CommunicationLinks lead to the archived bytes (an .eml, or a .pdf for a letter) and to the
// PEC receipts.
type CommunicationLinks struct {
	// EML is the archived message as sent: {id}.eml, {id}.pdf for a letter, {id}.json for an
	// App IO message (the exact request submitted to IO).
	EML      string `json:"eml"`
	Receipts string `json:"receipts"`
	// Answer is App IO's exact answer to the message, {id}.answer.json, once IO took it.
	Answer string `json:"answer,omitempty"`
}

// Communications is a page of GET /v1/communications, newest first.
type Communications struct {
	Communications []ArchivedCommunication `json:"communications"`
	// Next is the link to the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// PECReceipt is a receipt of a PEC message from the provider.
type PECReceipt struct {
	ID              int64             `json:"id"`
	CommunicationID int64             `json:"communicationId"`
	Kind            string            `json:"kind"` // accettazione, avvenuta-consegna, mancata-consegna
	SHA256          string            `json:"sha256"`
	ReceivedAt      time.Time         `json:"receivedAt"`
	Links           map[string]string `json:"links"`
}

// PECReceipts is the answer of GET /v1/communications/{id}/receipts, oldest first.
type PECReceipts struct {
	Receipts []PECReceipt `json:"receipts"`
}

const (
	channelPEC  = "pec"
	channelPost = "post"
	channelIO   = "io"
	// headerContentSHA256 carries the hex SHA-256 of the bytes served, as archived.
	headerContentSHA256 = "X-Content-SHA256"
)

// pecReceiptKinds maps the X-Ricevuta header of a PEC receipt (DM 2 November 2005) to the
// kind stored. The notice of non-delivery is errore-consegna in the rules; mancata-consegna
// is accepted as well.
var pecReceiptKinds = map[string]string{
	"accettazione":      "accettazione",
	"avvenuta-consegna": "avvenuta-consegna",
	"non-accettazione":  "mancata-consegna",
	"mancata-consegna":  "mancata-consegna",
	"errore-consegna":   "mancata-consegna",
}

// communicationsQuery is the validated query of GET /v1/communications.
type communicationsQuery struct {
	path         string // where the next page is asked: the GET's, or the search's (same body)
	debt, debtor string
	status       string // one of archiveStatuses, or empty
	from, to     date.Date
	limit        int
	before       int64
}

// communicationsSearch is the body of POST /v1/communications/search: the filters of the GET,
// and the debtor's fiscal code, which does not go in a URL.
type communicationsSearch struct {
	Debt   string `json:"debt"`
	Debtor string `json:"debtor"`
	Status string `json:"status"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// archiveStatuses are the states of an archived message: PENDING and SENDING on the way,
// SENT, UNCONFIRMED (the relay may not have had it), FAILED (refused), PRINT (a letter the
// print room has still to post).
var archiveStatuses = []string{"PENDING", "SENDING", "SENT", "UNCONFIRMED", "FAILED", "PRINT"}

// parseCommunicationsQuery reads the filters through filter (the query's, or the search
// body's) and the page from the query.
func (s *Server) parseCommunicationsQuery(c echo.Context, path string, filter func(name string) string) (communicationsQuery, error) {
	pg, errs := pageOf(c, 50, 500)
	q := communicationsQuery{path: path, limit: pg.limit, before: pg.before}
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if q.debt = filter("debt"); q.debt != "" && !debts.ValidIUPD(q.debt) {
		add("debt", "must be the iupd of a debt: 1 to 35 characters among A-Z a-z 0-9 . _ -")
	}
	if q.debtor = fiscalcode.Normalize(filter("debtor")); q.debtor != "" {
		if _, err := fiscalcode.Validate(q.debtor); err != nil {
			add("debtor", "not a valid codice fiscale: "+strings.TrimPrefix(err.Error(), fiscalcode.ErrInvalid.Error()+": "))
		}
	}
	if q.status = filter("status"); q.status != "" && !slices.Contains(archiveStatuses, q.status) {
		add("status", "must be one of "+strings.Join(archiveStatuses, ", "))
	}
	for _, p := range []struct {
		name string
		d    *date.Date
	}{{"from", &q.from}, {"to", &q.to}} {
		if v := filter(p.name); v != "" {
			d, err := date.Parse(v)
			if err != nil {
				add(p.name, "must be a date as YYYY-MM-DD")
			}
			*p.d = d
		}
	}
	if !q.from.IsZero() && !q.to.IsZero() && q.to.Before(q.from) {
		add("to", "must not be before from")
	}
	if len(errs) == 0 && q.debt == "" && q.debtor == "" && q.status == "" {
		switch {
		case q.from.IsZero() && q.to.IsZero():
			add("debt", "give at least one filter: debt, debtor, status, or both from and to")
		case q.from.IsZero():
			add("from", "required with to when neither debt, debtor nor status is given")
		case q.to.IsZero():
			add("to", "required with from when neither debt, debtor nor status is given")
		}
	}
	if len(errs) > 0 {
		return q, invalid(errs)
	}
	return q, nil
}

// createdRange turns the days from and to (in Rome, both included) into the instants
// [from, to); a missing bound is infinite.
func (q communicationsQuery) createdRange() (from, to pgtype.Timestamptz) {
	from = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	to = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	if !q.from.IsZero() {
		from = pgtype.Timestamptz{Time: time.Date(q.from.Year, q.from.Month, q.from.Day, 0, 0, 0, 0, date.Rome), Valid: true}
	}
	if !q.to.IsZero() {
		to = pgtype.Timestamptz{Time: q.to.EndIn(date.Rome), Valid: true}
	}
	return from, to
}

// next is the link to the page after the one ending at lastID.
func (q communicationsQuery) next(lastID int64) string {
	v := url.Values{}
	if q.path == communicationsPath { // the GET's filters go in its link; the search's are posted again
		if q.debt != "" {
			v.Set("debt", q.debt)
		}
		if q.status != "" {
			v.Set("status", q.status)
		}
		if !q.from.IsZero() {
			v.Set("from", q.from.String())
		}
		if !q.to.IsZero() {
			v.Set("to", q.to.String())
		}
	}
	v.Set("limit", strconv.Itoa(q.limit))
	v.Set("before", strconv.FormatInt(lastID, 10))
	return q.path + "?" + v.Encode()
}

const (
	communicationsPath       = "/v1/communications"
	communicationsSearchPath = "/v1/communications/search"
)

// listCommunications lists the archived messages of a debt or of a period, newest first. A
// debtor's are searched by POST (searchCommunications): a fiscal code in a URL stays in the
// logs of every proxy on the way.
func (s *Server) listCommunications(c echo.Context) error {
	if c.QueryParams().Has("debtor") {
		return invalid([]FieldError{{Field: "debtor", Message: `a fiscal code does not go in a URL: POST ` +
			communicationsSearchPath + ` with {"debtor": "..."}`}})
	}
	q, err := s.parseCommunicationsQuery(c, communicationsPath, c.QueryParam)
	if err != nil {
		return err
	}
	return s.answerCommunications(c, q)
}

// searchCommunications is listCommunications with the filters, the debtor's fiscal code
// among them, in the body; the page (limit, before) stays in the query, and the next page is
// the same body posted to the Next link.
func (s *Server) searchCommunications(c echo.Context) error {
	var body communicationsSearch
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	filters := map[string]string{"debt": body.Debt, "debtor": body.Debtor, "status": body.Status, "from": body.From, "to": body.To}
	q, err := s.parseCommunicationsQuery(c, communicationsSearchPath, func(name string) string { return filters[name] })
	if err != nil {
		return err
	}
	return s.answerCommunications(c, q)
}

// answerCommunications answers a page of the archive for q, newest first.
func (s *Server) answerCommunications(c echo.Context, q communicationsQuery) error {
	var err error
	if q.debt != "" {
		auditTarget(c, "iupd", q.debt)
	}
	if q.debtor != "" {
		s.auditDebtor(c, q.debtor)
	}
	ctx := c.Request().Context()
	from, to := q.createdRange()
	queries := dbgen.New(s.Pool)
	var rows []dbgen.ListArchiveByDebtRow
	switch {
	case q.debt != "":
		rows, err = queries.ListArchiveByDebt(ctx, dbgen.ListArchiveByDebtParams{
			EcFiscalCode: s.Config.Creditor.FiscalCode, Iupd: q.debt, Debtor: q.debtor, Status: q.status,
			CreatedFrom: from, CreatedTo: to, BeforeID: q.before, MaxRows: int32(q.limit),
		})
	case q.debtor != "":
		var byDebtor []dbgen.ListArchiveByDebtorRow
		byDebtor, err = queries.ListArchiveByDebtor(ctx, dbgen.ListArchiveByDebtorParams{
			Debtor: q.debtor, Status: q.status, CreatedFrom: from, CreatedTo: to, BeforeID: q.before, MaxRows: int32(q.limit),
		})
		for _, r := range byDebtor {
			rows = append(rows, dbgen.ListArchiveByDebtRow(r))
		}
	case q.status != "":
		var byStatus []dbgen.ListArchiveByStatusRow
		byStatus, err = queries.ListArchiveByStatus(ctx, dbgen.ListArchiveByStatusParams{
			Status: q.status, CreatedFrom: from, CreatedTo: to, BeforeID: q.before, MaxRows: int32(q.limit),
		})
		for _, r := range byStatus {
			rows = append(rows, dbgen.ListArchiveByDebtRow(r))
		}
	default:
		var byPeriod []dbgen.ListArchiveByPeriodRow
		byPeriod, err = queries.ListArchiveByPeriod(ctx, dbgen.ListArchiveByPeriodParams{
			CreatedFrom: from, CreatedTo: to, BeforeID: q.before, MaxRows: int32(q.limit),
		})
		for _, r := range byPeriod {
			rows = append(rows, dbgen.ListArchiveByDebtRow(r))
		}
	}
	if err != nil {
		return fmt.Errorf("list communications: %w", err)
	}
	page := Communications{Communications: make([]ArchivedCommunication, 0, len(rows))}
	for _, r := range rows {
		page.Communications = append(page.Communications, ArchivedCommunication{
			ID: r.ID, IUPD: r.Iupd, Kind: r.Kind, Step: r.Step, Channel: r.Channel, Sender: r.Sender,
			Recipient: r.Recipient, Subject: r.Subject, MessageID: r.MessageID, Status: r.Status,
			CreatedAt: r.CreatedAt.Time, SentAt: timePtr(r.SentAt), DeliveredAt: timePtr(r.DeliveredAt),
			SHA256: hex.EncodeToString(r.Sha256), RetentionUntil: date.Of(r.RetentionUntil),
			Links: communicationLinks(r.ID, r.Channel),
		})
	}
	if len(rows) == q.limit {
		page.Next = q.next(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

func communicationLinks(id int64, channel string) CommunicationLinks {
	self := "/v1/communications/" + strconv.FormatInt(id, 10)
	links := CommunicationLinks{EML: self + ".eml", Receipts: self + "/receipts"}
	switch channel {
	case channelPost:
		links.EML = self + ".pdf"
	case channelIO:
		links.EML, links.Answer = self+".json", self+".answer.json"
	}
	return links
}

// idWithExtension reads "123.eml" (or another of exts) as 123 and the extension; anything
// else is not a resource of ours.
func idWithExtension(s string, exts ...string) (int64, string, error) {
	for _, ext := range exts {
		if v, ok := strings.CutSuffix(s, ext); ok {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 && v[0] != '+' {
				return id, ext, nil
			}
		}
	}
	return 0, "", problem(http.StatusNotFound, "no such resource")
}

func pathID(c echo.Context, name string) (int64, error) {
	v := c.Param(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || v[0] == '+' {
		return 0, problem(http.StatusNotFound, "no such communication")
	}
	return id, nil
}

// safeFilename keeps the characters of s that need no quoting in any file system.
func safeFilename(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("@._+-", r):
			return r
		}
		return '_'
	}, s)
}

// serveArchived sends raw as an attachment after checking it against the hash recorded when
// it was archived: bytes that do not match are never served as the archive's.
func (s *Server) serveArchived(c echo.Context, what string, id int64, raw, sum []byte, contentType, filename string) error {
	got := sha256.Sum256(raw)
	if !bytes.Equal(got[:], sum) {
		s.Log.Error("archived bytes do not match their hash", "what", what, "id", id)
		return problem(http.StatusInternalServerError, "the archived bytes do not match the hash recorded with them; the incident has been logged")
	}
	return sendFile(c, http.StatusOK, contentType, filename, raw, sum)
}

// sendFile answers raw as an attachment named filename, with its hex SHA-256 in X-Content-SHA256.
func sendFile(c echo.Context, status int, contentType, filename string, raw, sum []byte) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set(headerContentSHA256, hex.EncodeToString(sum))
	return c.Blob(status, contentType, raw)
}

// getCommunicationFile serves the archived bytes of a message: the .eml as sent, the PDF of
// a letter, or the JSON request of an App IO message and IO's answer to it.
func (s *Server) getCommunicationFile(c echo.Context) error {
	id, ext, err := idWithExtension(c.Param("id"), ".answer.json", ".eml", ".pdf", ".json")
	if err != nil {
		return err
	}
	m, err := dbgen.New(s.Pool).GetArchivedCommunication(c.Request().Context(), id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && !hasFile(m, ext)) {
		return problem(http.StatusNotFound, "no such communication")
	} else if err != nil {
		return fmt.Errorf("load communication %d: %w", id, err)
	}
	name := safeFilename(m.MessageID)
	switch {
	case m.Channel == channelPost:
		return s.serveArchived(c, "communication", m.ID, m.Raw, m.Sha256, "application/pdf", name+".pdf")
	case ext == ".json":
		return s.serveArchived(c, "communication", m.ID, m.Raw, m.Sha256, "application/json", name+".json")
	case ext == ".answer.json":
		return s.serveArchived(c, "communication answer", m.ID, m.Answer, m.AnswerSha256, "application/json", name+".answer.json")
	}
	return s.serveArchived(c, "communication", m.ID, m.Raw, m.Sha256, "message/rfc822", name+".eml")
}

// hasFile tells whether the message m has an archived file with the extension: an .eml (a
// letter's PDF too, by its older link), a .pdf for a letter, the .json request of an App IO
// message and, once IO answered, its .answer.json.
func hasFile(m dbgen.Communication, ext string) bool {
	switch ext {
	case ".pdf":
		return m.Channel == channelPost
	case ".json":
		return m.Channel == channelIO
	case ".answer.json":
		return m.Channel == channelIO && m.Answer != nil
	}
	return m.Channel != channelIO
}

func (s *Server) communicationOutline(c echo.Context) (dbgen.GetCommunicationOutlineRow, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return dbgen.GetCommunicationOutlineRow{}, err
	}
	m, err := dbgen.New(s.Pool).GetCommunicationOutline(c.Request().Context(), id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return m, problem(http.StatusNotFound, "no such communication")
	} else if err != nil {
		return m, fmt.Errorf("load communication %d: %w", id, err)
	}
	return m, nil
}

func pecReceiptOf(r dbgen.CommunicationReceipt) PECReceipt {
	return PECReceipt{
		ID: r.ID, CommunicationID: r.CommunicationID, Kind: r.Kind, SHA256: hex.EncodeToString(r.Sha256),
		ReceivedAt: r.ReceivedAt.Time,
		Links:      map[string]string{"eml": fmt.Sprintf("/v1/communications/%d/receipts/%d.eml", r.CommunicationID, r.ID)},
	}
}

// listCommunicationReceipts lists the PEC receipts of a message, oldest first.
func (s *Server) listCommunicationReceipts(c echo.Context) error {
	m, err := s.communicationOutline(c)
	if err != nil {
		return err
	}
	rows, err := dbgen.New(s.Pool).ListCommunicationReceipts(c.Request().Context(), m.ID)
	if err != nil {
		return fmt.Errorf("list receipts of communication %d: %w", m.ID, err)
	}
	out := PECReceipts{Receipts: make([]PECReceipt, 0, len(rows))}
	for _, r := range rows {
		out.Receipts = append(out.Receipts, pecReceiptOf(dbgen.CommunicationReceipt{
			ID: r.ID, CommunicationID: r.CommunicationID, Kind: r.Kind, Sha256: r.Sha256, ReceivedAt: r.ReceivedAt,
		}))
	}
	return c.JSON(http.StatusOK, out)
}

// getCommunicationReceiptFile serves a PEC receipt as the provider sent it.
func (s *Server) getCommunicationReceiptFile(c echo.Context) error {
	commID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rid, _, err := idWithExtension(c.Param("rid"), ".eml")
	if err != nil {
		return err
	}
	r, err := dbgen.New(s.Pool).GetCommunicationReceipt(c.Request().Context(), dbgen.GetCommunicationReceiptParams{ID: rid, CommunicationID: commID})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no such receipt of this communication")
	} else if err != nil {
		return fmt.Errorf("load receipt %d: %w", rid, err)
	}
	return s.serveArchived(c, "pec receipt", r.ID, r.Raw, r.Sha256, "message/rfc822", fmt.Sprintf("receipt-%d-%s.eml", r.ID, r.Kind))
}

// addCommunicationReceipt records a PEC receipt the PEC gateway received for a message, read
// by readPECReceipt; a delivery receipt dates the delivery, from which the legal clock runs.
// The same receipt again is answered with the stored one.
func (s *Server) addCommunicationReceipt(c echo.Context) error {
	m, err := s.communicationOutline(c)
	if err != nil {
		return err
	}
	if m.Channel != channelPEC {
		return problem(http.StatusConflict, "the communication was not sent by PEC: it has no PEC receipts")
	}
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != "message/rfc822" {
		return problem(http.StatusUnsupportedMediaType, "the body must be the receipt as message/rfc822")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // the body limit's 413, or a broken connection
	}
	kind, deliveredAt, fe := s.readPECReceipt(raw, m.MessageID)
	if fe != nil {
		return invalid([]FieldError{*fe})
	}
	sum := sha256.Sum256(raw)
	var rc dbgen.CommunicationReceipt
	created := true
	err = db.InTx(c.Request().Context(), s.Pool, func(q *dbgen.Queries) error {
		var err error
		rc, err = q.InsertCommunicationReceipt(c.Request().Context(), dbgen.InsertCommunicationReceiptParams{
			CommunicationID: m.ID, Kind: kind, Raw: raw, Sha256: sum[:],
		})
		if errors.Is(db.NotFound(err), db.ErrNotFound) { // stored already
			created = false
			rc, err = q.GetCommunicationReceiptBySHA256(c.Request().Context(), dbgen.GetCommunicationReceiptBySHA256Params{
				CommunicationID: m.ID, Kind: kind, Sha256: sum[:],
			})
		}
		if err != nil {
			return fmt.Errorf("store receipt of communication %d: %w", m.ID, err)
		}
		if kind == "avvenuta-consegna" {
			if err := q.SetCommunicationDelivered(c.Request().Context(), dbgen.SetCommunicationDeliveredParams{
				ID: m.ID, DeliveredAt: pgtype.Timestamptz{Time: deliveredAt, Valid: true},
			}); err != nil {
				return fmt.Errorf("record delivery of communication %d: %w", m.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := pecReceiptOf(rc)
	if !created {
		return c.JSON(http.StatusOK, out)
	}
	s.Log.Info("PEC receipt recorded", "communication_id", m.ID, "receipt_id", rc.ID, "kind", kind)
	c.Response().Header().Set(echo.HeaderLocation, out.Links["eml"])
	return c.JSON(http.StatusCreated, out)
}

// readPECReceipt says what a PEC receipt for the message messageID says: its kind and, for a
// delivery, when. With the PEC providers' certificates (PECProviders, INCASSO_PEC_PROVIDERS)
// only a receipt a provider signed about this very message is believed, and what it says is
// read from its signed daticert.xml; its envelope, which anyone on the way may alter, is not.
// Without them (development), the X-Ricevuta and Date headers are taken at their word.
func (s *Server) readPECReceipt(raw []byte, messageID string) (kind string, deliveredAt time.Time, fe *FieldError) {
	if s.PECProviders == nil {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			return "", time.Time{}, &FieldError{Field: "body", Message: "not an Internet message (RFC 5322)"}
		}
		kind, ok := pecReceiptKinds[strings.ToLower(strings.TrimSpace(msg.Header.Get("X-Ricevuta")))]
		if !ok {
			return "", time.Time{}, &FieldError{Field: "X-Ricevuta", Message: "the PEC header X-Ricevuta must be accettazione, avvenuta-consegna, non-accettazione, errore-consegna or mancata-consegna"}
		}
		if kind == "avvenuta-consegna" {
			if deliveredAt, err = msg.Header.Date(); err != nil {
				return "", time.Time{}, &FieldError{Field: "Date", Message: "a delivery receipt needs a valid Date header"}
			}
		}
		return kind, deliveredAt, nil
	}
	r, err := pec.Verify(raw, s.PECProviders, s.Now())
	switch {
	case errors.Is(err, pec.ErrNoDaticert) || errors.Is(err, pec.ErrDaticert):
		return "", time.Time{}, &FieldError{Field: "daticert.xml", Message: err.Error()}
	case err != nil:
		return "", time.Time{}, &FieldError{Field: "body", Message: "not a receipt signed by a trusted PEC provider: " + err.Error()}
	}
	if r.MessageID != strings.Trim(messageID, "<>") {
		return "", time.Time{}, &FieldError{Field: "daticert.xml", Message: "msgid: the receipt is about another message"}
	}
	if kind, ok := pecReceiptKinds[r.Kind]; ok {
		if kind == "avvenuta-consegna" {
			deliveredAt = r.At
		}
		return kind, deliveredAt, nil
	}
	return "", time.Time{}, &FieldError{Field: "daticert.xml", Message: "tipo " + r.Kind + " is not a receipt incasso records (accettazione, avvenuta-consegna, non-accettazione, errore-consegna)"}
}
