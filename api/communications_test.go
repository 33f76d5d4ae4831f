package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/date"
)

// otherDebtor is a valid codice fiscale other than validRequest's.
const otherDebtor = "BNCGVN80A01H501J"

// archived says what to archive; zero fields get defaults.
type archived struct {
	channel, kind, step, status string
	raw                         []byte
	sha256                      []byte // when set, recorded instead of the hash of raw
	retention                   date.Date
	createdAt                   time.Time // when set, the row is inserted with it
}

// archive stores a message about the debt through the query the activities use (or, to set
// created_at, which only an INSERT can, with the same columns plus that one) and returns it.
func (e *testEnv) archive(t *testing.T, iupd string, a archived) dbgen.Communication {
	t.Helper()
	ctx := context.Background()
	d := e.debtRow(t, iupd)
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM communications").Scan(&n))
	key := fmt.Sprintf("debt/%d/test/%d", d.ID, n+1)
	if a.channel == "" {
		a.channel = "email"
	}
	if a.kind == "" {
		a.kind = "notice"
	}
	if a.status == "" {
		a.status = "SENT"
	}
	msgID := fmt.Sprintf("debt-%d-test-%d-%s@comune.example.it", d.ID, n+1, d.Nav)
	if a.raw == nil {
		a.raw = []byte("Message-ID: <" + msgID + ">\r\nSubject: Avviso\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGentile Mario Rossi,\r\n")
	}
	if a.sha256 == nil {
		sum := sha256.Sum256(a.raw)
		a.sha256 = sum[:]
	}
	if a.retention.IsZero() {
		a.retention = date.Of(date.InRome(time.Now()).Time().AddDate(5, 0, 0))
	}
	p := dbgen.InsertCommunicationParams{
		DebtID: d.ID, DedupeKey: key, Kind: a.kind, Channel: a.channel, Recipient: d.DebtorEmail, Subject: "Avviso " + d.Iupd,
		MessageID: msgID, Raw: a.raw, Sha256: a.sha256, RetentionUntil: a.retention.Time(), Step: a.step,
		Sender: "tributi@comune.example.it", Status: a.status,
	}
	if a.createdAt.IsZero() {
		require.NoError(t, dbgen.New(e.pool).InsertCommunication(ctx, p))
	} else {
		_, err := e.pool.Exec(ctx, `INSERT INTO communications (debt_id, dedupe_key, kind, channel, recipient, subject, message_id,
			raw, sha256, retention_until, step, sender, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.DebtID, p.DedupeKey, p.Kind, p.Channel, p.Recipient, p.Subject, p.MessageID, p.Raw, p.Sha256, p.RetentionUntil,
			p.Step, p.Sender, p.Status, a.createdAt)
		require.NoError(t, err)
	}
	c, err := dbgen.New(e.pool).GetCommunicationByDedupeKey(ctx, key)
	require.NoError(t, err)
	return c
}

// listCommunications gets a page of the archive, decoded strictly.
// listCommunications asks the archive: by GET, or, when path names a debtor, by POST to the
// search with the filters in the body, as a fiscal code must not go in a URL.
func (e *testEnv) listCommunications(t *testing.T, path string) Communications {
	t.Helper()
	u, err := url.Parse(path)
	require.NoError(t, err)
	method, reader, header := http.MethodGet, io.Reader(nil), e.authHeader()
	if q := u.Query(); q.Has("debtor") || u.Path == "/v1/communications/search" {
		filters := map[string]string{}
		for _, k := range []string{"debt", "debtor", "from", "to"} {
			if v := q.Get(k); v != "" {
				filters[k] = v
			}
			q.Del(k)
		}
		data, err := json.Marshal(filters)
		require.NoError(t, err)
		method, reader = http.MethodPost, bytes.NewReader(data)
		header.Set("Content-Type", "application/json")
		path = "/v1/communications/search?" + q.Encode()
	}
	resp, body := e.do(t, method, path, reader, header)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var page Communications
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&page), string(body))
	require.NotNil(t, page.Communications, "an empty page is [] not null")
	return page
}

func ids(page Communications) []int64 {
	out := []int64{}
	for _, c := range page.Communications {
		out = append(out, c.ID)
	}
	return out
}

func debtorRequest(iupd, fiscalCode string) CreateDebtRequest {
	r := validRequest(iupd)
	r.Debtor.FiscalCode = fiscalCode
	return r
}

func TestCommunicationsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("ARCH-A"))
	e.mustCreateDebt(t, validRequest("ARCH-B"))
	e.mustCreateDebt(t, debtorRequest("ARCH-C", otherDebtor))

	a1 := e.archive(t, "ARCH-A", archived{})
	a2 := e.archive(t, "ARCH-A", archived{channel: "pec", kind: "sollecito", step: "sollecito", status: "PENDING"})
	b1 := e.archive(t, "ARCH-B", archived{kind: "courtesy", step: "courtesy"})
	c1 := e.archive(t, "ARCH-C", archived{channel: "post", kind: "accertamento", step: "accertamento", status: "PRINT", raw: []byte("%PDF-1.7 lettera")})
	// Created on 1 March 2020 at 23:30 and on 2 March at 00:30 in Rome: different days there, the same in UTC.
	lateFirst := e.archive(t, "ARCH-C", archived{createdAt: time.Date(2020, time.March, 1, 22, 30, 0, 0, time.UTC)})
	earlySecond := e.archive(t, "ARCH-C", archived{createdAt: time.Date(2020, time.March, 1, 23, 30, 0, 0, time.UTC)})

	page := e.listCommunications(t, "/v1/communications?debt=ARCH-A")
	require.Equal(t, []int64{a2.ID, a1.ID}, ids(page), "newest first")
	require.Empty(t, page.Next)
	got := page.Communications[0]
	require.Equal(t, ArchivedCommunication{
		ID: a2.ID, IUPD: "ARCH-A", Kind: "sollecito", Step: "sollecito", Channel: "pec", Sender: "tributi@comune.example.it",
		Recipient: "mario.rossi@example.it", Subject: "Avviso ARCH-A", MessageID: a2.MessageID, Status: "PENDING",
		CreatedAt: got.CreatedAt, SHA256: hex.EncodeToString(a2.Sha256), RetentionUntil: date.Of(a2.RetentionUntil),
		Links: CommunicationLinks{
			EML: "/v1/communications/" + strconv.FormatInt(a2.ID, 10) + ".eml", Receipts: "/v1/communications/" + strconv.FormatInt(a2.ID, 10) + "/receipts",
		},
	}, got)
	require.WithinDuration(t, a2.CreatedAt.Time, got.CreatedAt, time.Microsecond)
	sum := sha256.Sum256(a2.Raw)
	require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)

	// The debtor's code is normalised; every debt of theirs counts.
	require.Equal(t, []int64{b1.ID, a2.ID, a1.ID}, ids(e.listCommunications(t, "/v1/communications?debtor=%20rssmra85t10a562s%20")))
	require.Equal(t, []int64{earlySecond.ID, lateFirst.ID, c1.ID}, ids(e.listCommunications(t, "/v1/communications?debtor="+otherDebtor)))
	post := e.listCommunications(t, "/v1/communications?debt=ARCH-C").Communications[2]
	require.Equal(t, c1.ID, post.ID)
	require.Equal(t, "/v1/communications/"+strconv.FormatInt(c1.ID, 10)+".pdf", post.Links.EML, "a letter is a PDF")

	// Debt and debtor together must both match.
	require.Empty(t, e.listCommunications(t, "/v1/communications?debt=ARCH-A&debtor="+otherDebtor).Communications)
	require.Len(t, e.listCommunications(t, "/v1/communications?debt=ARCH-A&debtor=RSSMRA85T10A562S").Communications, 2)
	require.Empty(t, e.listCommunications(t, "/v1/communications?debt=NO-SUCH-DEBT").Communications)

	// Days are days in Rome, both ends included.
	require.Equal(t, []int64{lateFirst.ID}, ids(e.listCommunications(t, "/v1/communications?from=2020-03-01&to=2020-03-01")))
	require.Equal(t, []int64{earlySecond.ID}, ids(e.listCommunications(t, "/v1/communications?from=2020-03-02&to=2020-03-02")))
	require.Equal(t, []int64{earlySecond.ID, lateFirst.ID}, ids(e.listCommunications(t, "/v1/communications?from=2020-02-01&to=2020-03-31")))
	require.Empty(t, e.listCommunications(t, "/v1/communications?from=2020-03-03&to=2020-12-31").Communications)
	today := date.InRome(time.Now()).String()
	require.Equal(t, []int64{c1.ID, b1.ID, a2.ID, a1.ID}, ids(e.listCommunications(t, "/v1/communications?from="+today+"&to="+today)))
	// A range narrows a debt or a debtor, and one bound alone will do there.
	require.Equal(t, []int64{earlySecond.ID}, ids(e.listCommunications(t, "/v1/communications?debt=ARCH-C&from=2020-03-02&to=2020-03-02")))
	require.Equal(t, []int64{earlySecond.ID, lateFirst.ID}, ids(e.listCommunications(t, "/v1/communications?debtor="+otherDebtor+"&to=2020-12-31")))
	require.Equal(t, []int64{c1.ID}, ids(e.listCommunications(t, "/v1/communications?debtor="+otherDebtor+"&from=2021-01-01")))
}

func TestCommunicationsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("PAGE-1"))
	e.mustCreateDebt(t, debtorRequest("PAGE-2", otherDebtor))
	var want []int64
	for i := range 7 {
		want = append([]int64{e.archive(t, "PAGE-1", archived{}).ID}, want...)
		if i%2 == 0 {
			e.archive(t, "PAGE-2", archived{}) // another debtor's, left out
		}
	}
	var got []int64
	path, pages := "/v1/communications?debtor=rssmra85t10a562s&limit=3", 0
	for path != "" {
		page := e.listCommunications(t, path)
		pages++
		got = append(got, ids(page)...)
		path = ""
		if page.Next != "" {
			require.True(t, strings.HasPrefix(page.Next, "/v1/communications/search?"), page.Next)
			require.NotContains(t, page.Next, "RSSMRA85T10A562S", "no fiscal code in the next link: the body is posted again")
			require.Contains(t, page.Next, "limit=3")
			path = page.Next + "&debtor=rssmra85t10a562s"
		}
	}
	require.Equal(t, want, got, "every message once, newest first")
	require.Equal(t, 3, pages)

	// Exactly a page's worth: the last page is empty.
	page := e.listCommunications(t, "/v1/communications?debt=PAGE-1&limit=7")
	require.Len(t, page.Communications, 7)
	require.NotEmpty(t, page.Next)
	require.Empty(t, e.listCommunications(t, page.Next).Communications)
}

func TestCommunicationsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for query, field := range map[string]string{
		"":                                "debt",
		"limit=10":                        "debt",
		"from=2026-01-01":                 "to",
		"to=2026-01-01":                   "from",
		"from=2026-13-01&to=2026-12-31":   "from",
		"from=2026-01-01&to=31/12/2026":   "to",
		"from=2026-02-01&to=2026-01-31":   "to",
		"debtor=RSSMRA85T10A562X":         "debtor",
		"debtor=123":                      "debtor",
		"debt=not%20an%20iupd":            "debt",
		"debt=" + strings.Repeat("x", 36): "debt",
		"debt=A&limit=0":                  "limit",
		"debt=A&limit=501":                "limit",
		"debt=A&limit=x":                  "limit",
		"debt=A&before=0":                 "before",
		"debt=A&before=-1":                "before",
		"debtor=RSSMRA85T10A562S":         "debtor", // by POST only
	} {
		t.Run(query, func(t *testing.T) {
			resp, body := e.do(t, http.MethodGet, "/v1/communications?"+query, nil, e.authHeader())
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Len(t, p.Errors, 1, string(body))
			require.Equal(t, field, p.Errors[0].Field, string(body))
			require.NotContains(t, string(body), "RSSMRA85T10A562X", "personal data is not echoed")
		})
	}
	// The search by POST validates its body and its page the same way, and names the field.
	for query, c := range map[string]struct{ body, field string }{
		"":         {`{"debtor": "RSSMRA85T10A562X"}`, "debtor"},
		"before=x": {`{"debtor": "RSSMRA85T10A562S"}`, "before"},
		"limit=9":  {`{}`, "debt"},
		" ":        {`{"debtor": "RSSMRA85T10A562S", "to": "31/12/2026"}`, "to"},
	} {
		resp, body := e.do(t, http.MethodPost, "/v1/communications/search?"+strings.TrimSpace(query), strings.NewReader(c.body),
			http.Header{"Authorization": e.authHeader()["Authorization"], "Content-Type": {"application/json"}})
		p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
		require.Len(t, p.Errors, 1, string(body))
		require.Equal(t, c.field, p.Errors[0].Field, string(body))
		require.NotContains(t, string(body), "RSSMRA85T10A562", "personal data is not echoed")
	}
	resp, body := e.do(t, http.MethodPost, "/v1/communications/search", strings.NewReader(`{"codiceFiscale": "x"}`),
		http.Header{"Authorization": e.authHeader()["Authorization"], "Content-Type": {"application/json"}})
	requireProblem(t, resp, body, http.StatusBadRequest)
	resp, body = e.do(t, http.MethodGet, "/v1/communications?debt=A", nil, nil)
	requireProblem(t, resp, body, http.StatusUnauthorized)
}

func TestCommunicationFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("EML-1"))
	raw := []byte("Message-ID: <x@comune.example.it>\r\nSubject: =?utf-8?q?Avviso_di_pagamento?=\r\n\r\n\xe8 dovuto\r\n")
	m := e.archive(t, "EML-1", archived{raw: raw})
	resp, body := e.do(t, http.MethodGet, fmt.Sprintf("/v1/communications/%d.eml", m.ID), nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, raw, body, "the exact archived bytes")
	require.Equal(t, "message/rfc822", resp.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="`+m.MessageID+`.eml"`, resp.Header.Get("Content-Disposition"))
	sum := sha256.Sum256(raw)
	require.Equal(t, hex.EncodeToString(sum[:]), resp.Header.Get("X-Content-SHA256"))

	pdf := []byte("%PDF-1.7\n lettera raccomandata")
	letter := e.archive(t, "EML-1", archived{channel: "post", kind: "accertamento", status: "PRINT", raw: pdf})
	for _, ext := range []string{".pdf", ".eml"} {
		resp, body = e.do(t, http.MethodGet, fmt.Sprintf("/v1/communications/%d%s", letter.ID, ext), nil, e.authHeader())
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, pdf, body)
		require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="`+letter.MessageID+`.pdf"`, resp.Header.Get("Content-Disposition"))
		sum = sha256.Sum256(pdf)
		require.Equal(t, hex.EncodeToString(sum[:]), resp.Header.Get("X-Content-SHA256"))
	}

	for _, path := range []string{
		fmt.Sprintf("/v1/communications/%d.pdf", m.ID), // an email is no PDF
		fmt.Sprintf("/v1/communications/%d", m.ID),
		fmt.Sprintf("/v1/communications/%d.eml", letter.ID+100),
		"/v1/communications/abc.eml", "/v1/communications/0.eml", "/v1/communications/-1.eml", "/v1/communications/+1.eml",
	} {
		resp, body = e.do(t, http.MethodGet, path, nil, e.authHeader())
		requireProblem(t, resp, body, http.StatusNotFound)
	}

	// Bytes that do not match their recorded hash are never served.
	bad := e.archive(t, "EML-1", archived{sha256: make([]byte, 32)})
	resp, body = e.do(t, http.MethodGet, fmt.Sprintf("/v1/communications/%d.eml", bad.ID), nil, e.authHeader())
	requireProblem(t, resp, body, http.StatusInternalServerError)
	require.Empty(t, resp.Header.Get("X-Content-SHA256"))
	require.Contains(t, e.logs.String(), "archived bytes do not match their hash")
}

// pecReceipt is a PEC receipt as a provider sends it: kind is the X-Ricevuta header ("" for
// none), date the Date header ("" for none).
func pecReceipt(kind, date, messageID string) []byte {
	var b strings.Builder
	b.WriteString("Return-Path: <posta-certificata@pec.provider.it>\r\n")
	if date != "" {
		b.WriteString("Date: " + date + "\r\n")
	}
	b.WriteString("From: posta-certificata@pec.provider.it\r\nTo: tributi@pec.comune.example.it\r\n")
	b.WriteString("Subject: CONSEGNA: Sollecito di pagamento\r\nX-Trasporto: posta-certificata\r\n")
	if kind != "" {
		b.WriteString("X-Ricevuta: " + kind + "\r\n")
	}
	b.WriteString("X-Riferimento-Message-ID: <" + messageID + ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nRicevuta.\r\n")
	return []byte(b.String())
}

func (e *testEnv) postReceipt(t *testing.T, commID int64, raw []byte) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + e.pecKey}, "Content-Type": {"message/rfc822"}}
	return e.do(t, http.MethodPost, fmt.Sprintf("/v1/communications/%d/receipts", commID), bytes.NewReader(raw), h)
}

func decodeReceipt(t *testing.T, body []byte) PECReceipt {
	t.Helper()
	var r PECReceipt
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r), string(body))
	return r
}

func TestPECReceipts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("PEC-1"))
	m := e.archive(t, "PEC-1", archived{channel: "pec", kind: "sollecito", step: "sollecito"})
	deliveredAt := time.Date(2026, time.November, 23, 10, 11, 12, 0, time.FixedZone("CET", 3600))

	accepted := pecReceipt("accettazione", "Mon, 23 Nov 2026 10:11:05 +0100", m.MessageID)
	resp, body := e.postReceipt(t, m.ID, accepted)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	acc := decodeReceipt(t, body)
	require.Equal(t, "accettazione", acc.Kind)
	require.Equal(t, m.ID, acc.CommunicationID)
	require.Equal(t, fmt.Sprintf("/v1/communications/%d/receipts/%d.eml", m.ID, acc.ID), resp.Header.Get("Location"))
	require.Equal(t, resp.Header.Get("Location"), acc.Links["eml"])

	// The same receipt again: the stored one, unchanged.
	resp, body = e.postReceipt(t, m.ID, accepted)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, acc, decodeReceipt(t, body))

	resp, body = e.postReceipt(t, m.ID, pecReceipt("avvenuta-consegna", deliveredAt.Format(time.RFC1123Z), m.MessageID))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	delivery := decodeReceipt(t, body)
	require.Equal(t, "avvenuta-consegna", delivery.Kind)
	page := e.listCommunications(t, "/v1/communications?debt=PEC-1")
	require.NotNil(t, page.Communications[0].DeliveredAt)
	require.True(t, deliveredAt.Equal(*page.Communications[0].DeliveredAt), "%v", page.Communications[0].DeliveredAt)
	require.Equal(t, "SENT", page.Communications[0].Status, "only the delivery moved")

	// A later delivery receipt (another copy) is kept, and the first delivery stands.
	resp, body = e.postReceipt(t, m.ID, pecReceipt(" Avvenuta-Consegna ", deliveredAt.Add(time.Hour).Format(time.RFC1123Z), m.MessageID))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	resp, body = e.postReceipt(t, m.ID, pecReceipt("avvenuta-consegna", deliveredAt.Format(time.RFC1123Z), m.MessageID))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, delivery, decodeReceipt(t, body))
	stored, err := dbgen.New(e.pool).GetArchivedCommunication(context.Background(), m.ID)
	require.NoError(t, err)
	require.True(t, deliveredAt.Equal(stored.DeliveredAt.Time))
	require.Equal(t, m.Raw, stored.Raw)

	// Non-delivery, under every name providers use for it.
	for _, kind := range []string{"non-accettazione", "errore-consegna", "mancata-consegna"} {
		resp, body = e.postReceipt(t, m.ID, pecReceipt(kind, "Tue, 24 Nov 2026 09:00:00 +0100", m.MessageID))
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
		require.Equal(t, "mancata-consegna", decodeReceipt(t, body).Kind)
	}

	// The list, oldest first, and each receipt's exact bytes.
	resp, body = e.do(t, http.MethodGet, fmt.Sprintf("/v1/communications/%d/receipts", m.ID), nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var list PECReceipts
	require.NoError(t, json.Unmarshal(body, &list))
	var kinds []string
	for _, r := range list.Receipts {
		kinds = append(kinds, r.Kind)
	}
	require.Equal(t, []string{"accettazione", "avvenuta-consegna", "avvenuta-consegna", "mancata-consegna", "mancata-consegna", "mancata-consegna"}, kinds)
	require.Equal(t, acc, list.Receipts[0])
	resp, body = e.do(t, http.MethodGet, acc.Links["eml"], nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, accepted, body)
	require.Equal(t, "message/rfc822", resp.Header.Get("Content-Type"))
	sum := sha256.Sum256(accepted)
	require.Equal(t, hex.EncodeToString(sum[:]), resp.Header.Get("X-Content-SHA256"))
	require.Equal(t, acc.SHA256, resp.Header.Get("X-Content-SHA256"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")

	// A receipt is found only under its own message.
	other := e.archive(t, "PEC-1", archived{channel: "pec", kind: "sollecito"})
	for _, path := range []string{
		fmt.Sprintf("/v1/communications/%d/receipts/%d.eml", other.ID, acc.ID),
		fmt.Sprintf("/v1/communications/%d/receipts/%d", m.ID, acc.ID),
		fmt.Sprintf("/v1/communications/%d/receipts", other.ID+100),
		"/v1/communications/x/receipts",
	} {
		resp, body = e.do(t, http.MethodGet, path, nil, e.authHeader())
		requireProblem(t, resp, body, http.StatusNotFound)
	}
	resp, body = e.do(t, http.MethodGet, fmt.Sprintf("/v1/communications/%d/receipts", other.ID), nil, e.authHeader())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.JSONEq(t, `{"receipts":[]}`, string(body))
}

func TestPECReceiptRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("PEC-2"))
	m := e.archive(t, "PEC-2", archived{channel: "pec", kind: "sollecito"})
	email := e.archive(t, "PEC-2", archived{})
	date := "Mon, 23 Nov 2026 10:11:12 +0100"

	for name, tc := range map[string]struct {
		raw   []byte
		field string
	}{
		"no X-Ricevuta":       {pecReceipt("", date, m.MessageID), "X-Ricevuta"},
		"presa-in-carico":     {pecReceipt("presa-in-carico", date, m.MessageID), "X-Ricevuta"},
		"empty X-Ricevuta":    {pecReceipt(" ", date, m.MessageID), "X-Ricevuta"},
		"delivery, no Date":   {pecReceipt("avvenuta-consegna", "", m.MessageID), "Date"},
		"delivery, bad Date":  {pecReceipt("avvenuta-consegna", "ieri", m.MessageID), "Date"},
		"not a message":       {[]byte("no headers here"), "body"},
		"empty":               {[]byte{}, "body"},
		"header without body": {[]byte("X-Ricevuta accettazione\r\n"), "body"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.postReceipt(t, m.ID, tc.raw)
			p := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
			require.Len(t, p.Errors, 1)
			require.Equal(t, tc.field, p.Errors[0].Field)
		})
	}
	resp, body := e.postReceipt(t, m.ID+1000, pecReceipt("accettazione", date, m.MessageID))
	requireProblem(t, resp, body, http.StatusNotFound)
	resp, body = e.postReceipt(t, email.ID, pecReceipt("accettazione", date, email.MessageID))
	requireProblem(t, resp, body, http.StatusConflict)
	h := http.Header{"Authorization": {"Bearer " + e.pecKey}, "Content-Type": {"application/json"}}
	resp, body = e.do(t, http.MethodPost, fmt.Sprintf("/v1/communications/%d/receipts", m.ID), bytes.NewReader(pecReceipt("accettazione", date, m.MessageID)), h)
	requireProblem(t, resp, body, http.StatusUnsupportedMediaType)

	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM communication_receipts").Scan(&n))
	require.Zero(t, n, "nothing stored")
	stored, err := dbgen.New(e.pool).GetArchivedCommunication(context.Background(), m.ID)
	require.NoError(t, err)
	require.False(t, stored.DeliveredAt.Valid)
}

func requireArchiveRefuses(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23000", pgErr.Code, pgErr.Message)
}

// The database keeps the archive as it was sent, whoever asks.
func TestArchiveIsImmutable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.mustCreateDebt(t, validRequest("IMMUTABLE-1"))
	m := e.archive(t, "IMMUTABLE-1", archived{channel: "pec", kind: "sollecito"})
	resp, body := e.postReceipt(t, m.ID, pecReceipt("accettazione", "Mon, 23 Nov 2026 10:11:12 +0100", m.MessageID))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))

	for _, stmt := range []string{
		"UPDATE communications SET subject = 'altro' WHERE id = $1",
		"UPDATE communications SET raw = 'altro'::bytea WHERE id = $1",
		"UPDATE communications SET retention_until = '2000-01-01' WHERE id = $1",
		"UPDATE communications SET status = 'PENDING' WHERE id = $1",
		"DELETE FROM communications WHERE id = $1",
		"UPDATE communication_receipts SET kind = 'avvenuta-consegna' WHERE communication_id = $1",
		"DELETE FROM communication_receipts WHERE communication_id = $1",
	} {
		_, err := e.pool.Exec(ctx, stmt, m.ID)
		requireArchiveRefuses(t, err)
	}
	stored, err := dbgen.New(e.pool).GetArchivedCommunication(ctx, m.ID)
	require.NoError(t, err)
	require.Equal(t, m.Subject, stored.Subject)
	require.Equal(t, m.Raw, stored.Raw)

	// The delivery state may move.
	_, err = e.pool.Exec(ctx, "UPDATE communications SET delivered_at = now() WHERE id = $1", m.ID)
	require.NoError(t, err)

	// Once its retention has expired, a message goes, with its receipts.
	old := e.archive(t, "IMMUTABLE-1", archived{channel: "pec", retention: date.Date{Year: 2020, Month: time.January, Day: 1}})
	resp, body = e.postReceipt(t, old.ID, pecReceipt("accettazione", "Mon, 23 Nov 2026 10:11:12 +0100", old.MessageID))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	_, err = e.pool.Exec(ctx, "DELETE FROM communications WHERE id = $1", old.ID)
	require.NoError(t, err)
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM communication_receipts WHERE communication_id = $1", old.ID).Scan(&n))
	require.Zero(t, n)
}

// A PEC left UNCONFIRMED by a crash is proven sent by its delivery receipt.
func TestPECDeliveryConfirmsUnconfirmed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateDebt(t, validRequest("PEC-UNC"))
	m := e.archive(t, "PEC-UNC", archived{channel: "pec", kind: "sollecito", step: "sollecito", status: "UNCONFIRMED"})
	deliveredAt := time.Date(2026, time.November, 23, 10, 11, 12, 0, time.UTC)
	resp, body := e.postReceipt(t, m.ID, pecReceipt("avvenuta-consegna", deliveredAt.Format(time.RFC1123Z), m.MessageID))
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	page := e.listCommunications(t, "/v1/communications?debt=PEC-UNC")
	require.Equal(t, "SENT", page.Communications[0].Status)
	require.True(t, deliveredAt.Equal(*page.Communications[0].SentAt), "%v", page.Communications[0].SentAt)
}
