// Package positions maps a debt of incasso's database to pagoPA's models: the GPD debt
// position and the transfers that split its amount among the service's beneficiaries. The
// GPD registration and the EC's own answers to the Nodo (paGetPaymentV2) share it, so both
// describe a debt the same way.
package positions

import (
	"cmp"
	"fmt"
	"time"

	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/sepa"
)

// Transfers splits amount among the service's beneficiaries, the comune's IBAN standing in
// for a beneficiary without one.
func Transfers(creditor config.Creditor, service config.Service, amount int64, remittance string) ([]gpd.Transfer, error) {
	shares := make([]gpd.Share, len(service.Transfers))
	for i, b := range service.Transfers {
		shares[i] = gpd.Share{
			BasisPoints: b.BasisPoints, Category: b.Taxonomy, IBAN: cmp.Or(b.IBAN, creditor.IBAN),
			RemittanceInformation: remittance, OrganizationFiscalCode: b.FiscalCode, CompanyName: b.Name,
		}
	}
	return gpd.SplitTransfers(amount, shares)
}

// Position is the GPD position of the debt: one payment option, due at the end of the due
// date in Rome, with its transfers.
func Position(creditor config.Creditor, services config.Services, d dbgen.DebtPosition) (gpd.Position, error) {
	service, ok := services.Find(d.ServiceCode)
	if !ok {
		return gpd.Position{}, fmt.Errorf("service %s is not configured", d.ServiceCode)
	}
	transfers, err := Transfers(creditor, service, d.AmountCents, d.Description)
	if err != nil {
		return gpd.Position{}, fmt.Errorf("debt %d: %w", d.ID, err)
	}
	return gpd.Position{
		IUPD: d.Iupd, Type: d.DebtorType, FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName,
		Email: d.DebtorEmail, CompanyName: creditor.Name, SwitchToExpired: service.ExpiresAfterDue,
		PaymentOptions: []gpd.PaymentOption{{
			IUV: d.Nav[1:], Amount: d.AmountCents, Description: d.Description,
			DueDate:   date.Of(d.DueDate).EndIn(date.Rome).Add(-time.Second),
			Transfers: transfers,
		}},
	}, nil
}

// InstalmentOption is one instalment of a plan, as a partial payment option.
type InstalmentOption struct {
	NAV     string
	Amount  int64
	DueDate date.Date
	Label   string // e.g. "rata 2 di 12"
}

// WithInstalments is the debt's position with its single payment option replaced by one
// partial option per instalment, so that the debt can no longer be paid at once by mistake.
func WithInstalments(creditor config.Creditor, services config.Services, d dbgen.DebtPosition, options []InstalmentOption) (gpd.Position, error) {
	p, err := Position(creditor, services, d)
	if err != nil {
		return p, err
	}
	service, _ := services.Find(d.ServiceCode)
	p.PaymentOptions = p.PaymentOptions[:0]
	for _, o := range options {
		description := sepa.Truncate(d.Description, 140-3-len(o.Label)) + " - " + o.Label
		transfers, err := Transfers(creditor, service, o.Amount, description)
		if err != nil {
			return p, fmt.Errorf("debt %d, %s: %w", d.ID, o.Label, err)
		}
		p.PaymentOptions = append(p.PaymentOptions, gpd.PaymentOption{
			IUV: o.NAV[1:], Amount: o.Amount, Description: description, IsPartialPayment: true,
			DueDate: o.DueDate.EndIn(date.Rome).Add(-time.Second), Transfers: transfers,
		})
	}
	return p, nil
}
