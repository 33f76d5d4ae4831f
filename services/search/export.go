package search

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"incasso/db/dbgen"
	"incasso/domain/csvsafe"
	"incasso/domain/date"
	"incasso/domain/money"
)

// exportBatch is how many debts an export reads per query.
const exportBatch = 5000

// RowWriter writes the debts of an export one by one, in some format.
type RowWriter interface {
	Write(Debt) error
	// Flush writes out what is buffered and reports the first error of any write.
	Flush() error
}

// Export writes every debt q's filter matches, in q's order (its cursor and limit are not
// used), to w and returns how many. The debts are read in batches of a few thousand by their
// keyset, inside one snapshot, so memory stays flat whatever their number; the next batch is
// read while this one is written, so that the database and the encoding each keep a core busy.
func (s Searcher) Export(ctx context.Context, q Query, w RowWriter) (int64, error) {
	var n int64
	err := s.inSnapshot(ctx, func(_ pgx.Tx, dq *dbgen.Queries) error {
		batches := make(chan []dbgen.SearchDebtsRow, 1)
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			defer close(batches)
			var after *Cursor
			for {
				batch, err := dq.ExportDebts(gctx, exportParams(s.pageParams(q, after, exportBatch)))
				if err != nil {
					return fmt.Errorf("export debts: %w", err)
				}
				rows := make([]dbgen.SearchDebtsRow, len(batch))
				for i, r := range batch {
					rows[i] = dbgen.SearchDebtsRow(r)
				}
				select {
				case batches <- rows:
				case <-gctx.Done():
					return gctx.Err()
				}
				if len(rows) < exportBatch {
					return nil
				}
				c := cursorAfter(q.Sort, debtOf(rows[len(rows)-1]))
				after = &c
			}
		})
		g.Go(func() error {
			for rows := range batches {
				for _, row := range rows {
					d := debtOf(row)
					if err := w.Write(d); err != nil {
						return fmt.Errorf("export debt %d: %w", d.ID, err)
					}
					n++
				}
			}
			return w.Flush()
		})
		return g.Wait()
	})
	return n, err
}

// csvHeader names the columns of the CSV export, in Italian as the office's spreadsheets.
var csvHeader = []string{
	"iupd", "servizio", "stato", "numero_avviso", "tipo", "codice_fiscale", "nominativo",
	"importo", "riscosso", "da_riscuotere", "scadenza", "campagna", "rateizzato",
	"ricevute_segnalate", "emesso_il", "aggiornato_il",
}

// CSV writes debts as Excel and LibreOffice open them in Italy: UTF-8 with a BOM, ";"
// between fields, CRLF, euro amounts with a decimal comma, dates as dd/mm/yyyy, times in Rome.
type CSV struct {
	w      *csv.Writer
	record []string
	err    error
}

// NewCSV starts a CSV export on w: the BOM and the header row.
func NewCSV(w io.Writer) *CSV {
	c := &CSV{w: csv.NewWriter(w), record: make([]string, len(csvHeader))}
	c.w.Comma, c.w.UseCRLF = ';', true
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		c.err = err
	}
	c.writeRecord(csvHeader)
	return c
}

// Write adds the row of d.
func (c *CSV) Write(d Debt) error {
	r := c.record
	r[0], r[1], r[2], r[3] = d.IUPD, d.ServiceCode, string(d.Status), d.NoticeNumber
	r[4], r[5], r[6] = d.DebtorType, d.DebtorFiscalCode, d.DebtorName
	r[7], r[8], r[9] = decimalComma(d.AmountCents), decimalComma(d.CollectedCents), decimalComma(d.OutstandingCents)
	r[10], r[11], r[12] = d.DueDate.Italian(), "", "no"
	if d.CampaignID != 0 {
		r[11] = strconv.FormatInt(d.CampaignID, 10)
	}
	if d.InInstalments {
		r[12] = "sì"
	}
	r[13], r[14], r[15] = strconv.Itoa(d.FlaggedReceipts), "", romeTime(d.UpdatedAt)
	if d.IssuedAt != nil {
		r[14] = romeTime(*d.IssuedAt)
	}
	c.writeRecord(r)
	return c.err
}

func (c *CSV) writeRecord(r []string) {
	if c.err != nil {
		return
	}
	for i, v := range r {
		r[i] = csvsafe.Cell(v)
	}
	c.err = c.w.Write(r)
}

// Flush writes out the buffered rows.
func (c *CSV) Flush() error {
	c.w.Flush()
	if c.err != nil {
		return c.err
	}
	return c.w.Error()
}

func decimalComma(c money.Cents) string { return strings.Replace(c.Decimal(), ".", ",", 1) }

func romeTime(t time.Time) string { return t.In(date.Rome).Format("02/01/2006 15:04") }

// JSONLines writes debts as JSON Lines: one object per line, as the search returns them.
type JSONLines struct {
	buf *bufio.Writer
	enc *json.Encoder
	err error
}

// NewJSONLines starts a JSON Lines export on w, buffered: a line is a few hundred bytes.
func NewJSONLines(w io.Writer) *JSONLines {
	buf := bufio.NewWriterSize(w, 64<<10)
	return &JSONLines{buf: buf, enc: json.NewEncoder(buf)}
}

// Write adds the line of d.
func (j *JSONLines) Write(d Debt) error {
	if j.err == nil {
		j.err = j.enc.Encode(d)
	}
	return j.err
}

// Flush writes out the buffered lines and reports the first error of a write.
func (j *JSONLines) Flush() error {
	if j.err != nil {
		return j.err
	}
	return j.buf.Flush()
}

// exportParams are a page's parameters for ExportDebts, which reads along the sort's index
// (no SortMatches).
func exportParams(p dbgen.SearchDebtsParams) dbgen.ExportDebtsParams {
	return dbgen.ExportDebtsParams{
		EcFiscalCode: p.EcFiscalCode, Debtor: p.Debtor, Service: p.Service, Statuses: p.Statuses,
		CampaignID: p.CampaignID, DueFrom: p.DueFrom, DueTo: p.DueTo, IssuedFrom: p.IssuedFrom,
		IssuedBefore: p.IssuedBefore, AmountMin: p.AmountMin, AmountMax: p.AmountMax,
		OverdueBefore: p.OverdueBefore, InInstalments: p.InInstalments, Flagged: p.Flagged,
		IupdLike: p.IupdLike, Reconciliation: p.Reconciliation, AfterID: p.AfterID, Sort: p.Sort,
		AfterDue: p.AfterDue, AfterAmount: p.AfterAmount, AfterUpdated: p.AfterUpdated, MaxRows: p.MaxRows,
	}
}
