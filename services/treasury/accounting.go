package treasury

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db/dbgen"
	"incasso/domain/csvsafe"
	"incasso/domain/date"
)

// accountingHeader is the header of the accounting export.
var accountingHeader = []string{"data_accredito", "canale", "servizio", "tassonomia", "beneficiario", "pagamenti", "importo_centesimi"}

// openHeader is the header of the list of what is still open.
var openHeader = []string{"rilevata_il", "id", "motivo", "oggetto", "atteso_centesimi", "riportato_centesimi", "dettaglio"}

// Accounting writes to w, as CSV for the accounting system (semicolons, CRLF, through
// csvsafe), what the treasury's entries booked on day reconciled: one row per channel
// (PAGOPA, SDD), service, taxonomy and beneficiary (the fiscal code of the entity a transfer of
// a multi-beneficiary service goes to), with the number of payments and their amount in
// cents. SDD rows have no taxonomy or beneficiary: a collection is one whole instalment of the
// comune's. It returns the number of rows.
func (in *Intake) Accounting(ctx context.Context, day date.Date, w io.Writer) (int, error) {
	rows, err := dbgen.New(in.Pool).ListAccountingReconciled(ctx, day.Time())
	if err != nil {
		return 0, fmt.Errorf("accounting of %s: %w", day, err)
	}
	cw := csvsafe.NewWriter(w, ';', true)
	if err := cw.Write(accountingHeader); err != nil {
		return 0, err
	}
	for _, r := range rows {
		rec := []string{day.String(), r.Channel, r.ServiceCode, r.Taxonomy, r.Beneficiary,
			strconv.FormatInt(r.Payments, 10), strconv.FormatInt(r.AmountCents, 10)}
		if err := cw.Write(rec); err != nil {
			return 0, err
		}
	}
	return len(rows), cw.Flush()
}

// Open writes to w, as CSV like Accounting, the differences still open that were detected on
// or before day, oldest first: what the books cannot take yet. Their subjects are incasso's
// ids (receipt:<id>, flow:<flow id>/<revision>, credit:<flow id>, sdd:<file MsgId>), never
// personal data. It returns the number of rows.
func (in *Intake) Open(ctx context.Context, day date.Date, w io.Writer) (int, error) {
	rows, err := dbgen.New(in.Pool).ListOpenDifferences(ctx, day.Time())
	if err != nil {
		return 0, fmt.Errorf("open differences to %s: %w", day, err)
	}
	cw := csvsafe.NewWriter(w, ';', true)
	if err := cw.Write(openHeader); err != nil {
		return 0, err
	}
	for _, r := range rows {
		rec := []string{date.Of(r.DetectedOn).String(), strconv.FormatInt(r.ID, 10), r.Reason, r.Subject,
			cents(r.ExpectedCents), cents(r.ReportedCents), r.Detail}
		if err := cw.Write(rec); err != nil {
			return 0, err
		}
	}
	return len(rows), cw.Flush()
}

// cents writes an amount that may be missing, "" then.
func cents(c pgtype.Int8) string {
	if !c.Valid {
		return ""
	}
	return strconv.FormatInt(c.Int64, 10)
}
