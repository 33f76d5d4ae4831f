package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"incasso/db/dbgen"
	"incasso/domain/money"
)

// Receipt is a pagoPA receipt as the API shows it. Flag, when set, says why the finance
// office must look at it (see package receipts).
type Receipt struct {
	ReceiptID          string          `json:"receiptId"`
	NoticeNumber       string          `json:"noticeNumber"`
	Outcome            string          `json:"outcome"`
	AmountCents        money.Cents     `json:"amountCents"`
	FeeCents           *int64          `json:"feeCents,omitempty"`
	PSPID              string          `json:"pspId"`
	PSP                string          `json:"psp"`
	Channel            string          `json:"channel"`
	ChannelDescription string          `json:"channelDescription,omitempty"`
	PaymentMethod      string          `json:"paymentMethod,omitempty"`
	PaidAt             *time.Time      `json:"paidAt,omitempty"`
	Transfers          json.RawMessage `json:"transfers"`
	Source             string          `json:"source"`
	Flag               string          `json:"flag,omitempty"`
	FlagDetail         string          `json:"flagDetail,omitempty"`
	ReceivedAt         time.Time       `json:"receivedAt"`
	IUPD               string          `json:"iupd,omitempty"` // in the list of flagged receipts
	// Reconciliation is the receipt's state against the reporting flows (a paid receipt's).
	Reconciliation *ReceiptReconciliation `json:"reconciliation,omitempty"`
}

func receiptOf(rc dbgen.Receipt) Receipt {
	r := Receipt{
		ReceiptID: rc.ReceiptID, NoticeNumber: rc.Nav, Outcome: rc.Outcome, AmountCents: money.Cents(rc.AmountCents),
		PSPID: rc.PspID, PSP: rc.PspName, Channel: rc.ChannelID, ChannelDescription: rc.ChannelDescription,
		PaymentMethod: rc.PaymentMethod, PaidAt: timePtr(rc.PaidAt), Transfers: rc.Transfers, Source: rc.Source,
		Flag: rc.Flag.String, FlagDetail: rc.FlagDetail, ReceivedAt: rc.ReceivedAt.Time,
	}
	if rc.FeeCents.Valid {
		r.FeeCents = &rc.FeeCents.Int64
	}
	return r
}

// FlaggedReceipts is a page of GET /v1/receipts/flagged, newest first.
type FlaggedReceipts struct {
	Receipts []Receipt `json:"receipts"`
	// Next is the link to the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// listFlaggedReceipts lists the receipts the finance office must review: unknown notices,
// amounts that differ, double payments and payments of cancelled debts.
func (s *Server) listFlaggedReceipts(c echo.Context) error {
	pg, errs := pageOf(c, 50, 500)
	if len(errs) > 0 {
		return invalid(errs)
	}
	rows, err := dbgen.New(s.Pool).ListFlaggedReceipts(c.Request().Context(), dbgen.ListFlaggedReceiptsParams{BeforeID: pg.before, MaxRows: int32(pg.limit)})
	if err != nil {
		return err
	}
	page := FlaggedReceipts{Receipts: make([]Receipt, 0, len(rows))}
	for _, row := range rows {
		r := receiptOf(dbgen.Receipt{
			ID: row.ID, ReceiptID: row.ReceiptID, DebtID: row.DebtID, Nav: row.Nav, AmountCents: row.AmountCents,
			Outcome: row.Outcome, PspID: row.PspID, PspName: row.PspName, ChannelID: row.ChannelID,
			PaymentMethod: row.PaymentMethod, FeeCents: row.FeeCents, PaidAt: row.PaidAt, ReceivedAt: row.ReceivedAt,
			ChannelDescription: row.ChannelDescription, Transfers: row.Transfers, Source: row.Source,
			Flag: row.Flag, FlagDetail: row.FlagDetail,
		})
		r.IUPD = row.Iupd.String
		page.Receipts = append(page.Receipts, r)
	}
	if len(rows) == pg.limit {
		page.Next = "/v1/receipts/flagged?limit=" + strconv.Itoa(pg.limit) + "&before=" + strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, page)
}
