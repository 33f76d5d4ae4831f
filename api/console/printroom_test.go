package console

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/access"
	"incasso/services/printroom"
)

// The page Posta in uscita lists the letters waiting for the post with their PDF; an operator
// marks one posted, and it leaves the list; a day in the future, or a letter marked already
// on another day, is refused with a message; an auditor reads the list but may not mark.
func TestPrintRoomPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := seedCampaign(t, e, "TARI 2026", 1, 1)
	iupd := fmt.Sprintf("C%d-1", id)
	var debtID int64
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT id FROM debt_positions WHERE iupd = $1", iupd).Scan(&debtID))
	letter := func(kind string) int64 {
		raw := []byte("%PDF-1.4 " + kind)
		sum := sha256.Sum256(raw)
		require.NoError(t, dbgen.New(e.pool).InsertCommunication(ctx, dbgen.InsertCommunicationParams{
			DebtID: debtID, DedupeKey: fmt.Sprintf("debt/%d/%s/1", debtID, kind), Kind: kind, Channel: "post",
			Recipient: "posta ordinaria", Subject: "Lettera " + kind, MessageID: kind + "@test", Raw: raw, Sha256: sum[:],
			RetentionUntil: time.Now().AddDate(5, 0, 0), Step: kind, Sender: "tributi", Status: "PRINT",
		}))
		var cid int64
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT id FROM communications WHERE dedupe_key = $1", fmt.Sprintf("debt/%d/%s/1", debtID, kind)).Scan(&cid))
		return cid
	}
	sollecito, accertamento, notice := letter("sollecito"), letter("accertamento"), letter("notice")

	// The queue, oldest first, by pages.
	q := dbgen.New(e.pool)
	first, next, err := printroom.Queue(ctx, q, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []int64{sollecito, accertamento}, []int64{first[0].ID, first[1].ID})
	require.Equal(t, accertamento, next)
	last, next, err := printroom.Queue(ctx, q, next, 2)
	require.NoError(t, err)
	require.Len(t, last, 1)
	require.Equal(t, notice, last[0].ID)
	require.Zero(t, next)

	e.addUser(t, "anna", access.Auditor)
	a := e.browser(t)
	require.Equal(t, http.StatusSeeOther, a.loginUser(t, "anna", password).status)
	p := a.get(t, "/console/posta")
	require.Equal(t, http.StatusOK, p.status, p.body)
	for _, want := range []string{"Lettera sollecito", "Lettera accertamento", fmt.Sprintf(`href="/v1/communications/%d.pdf"`, sollecito),
		`href="/console/posizioni/` + iupd + `"`} {
		require.Contains(t, p.body, want)
	}
	mark := func(b *browser, cid int64, day string) page {
		return b.post(t, fmt.Sprintf("/console/posta/%d/spedita", cid), url.Values{"csrf": {b.csrf(t)}, "giorno": {day}})
	}
	require.Equal(t, http.StatusForbidden, mark(a, sollecito, "2026-03-17").status)

	e.addUser(t, "olga", access.Operator)
	o := e.browser(t)
	require.Equal(t, http.StatusSeeOther, o.loginUser(t, "olga", password).status)
	today := date.InRome(time.Unix(0, e.now.Load()))
	p = mark(o, sollecito, today.String())
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/console/posta?esito=spedita", p.header.Get("Location"))
	p = o.get(t, "/console/posta?esito=spedita")
	require.Contains(t, p.body, "Lettera segnata come spedita.")
	require.NotContains(t, p.body, "Lettera sollecito")
	require.Contains(t, p.body, "Lettera accertamento")
	var status string
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT status FROM communications WHERE id = $1", sollecito).Scan(&status))
	require.Equal(t, "SENT", status)

	p = mark(o, sollecito, today.Time().AddDate(0, 0, -1).Format(time.DateOnly))
	require.Equal(t, http.StatusConflict, p.status)
	require.Contains(t, p.body, `id="errore"`)
	p = mark(o, accertamento, today.Time().AddDate(0, 0, 1).Format(time.DateOnly))
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "futuro")
	p = mark(o, accertamento, "domani")
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Equal(t, http.StatusNotFound, mark(o, accertamento+100, today.String()).status)
}
