package activities

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"incasso/clients/inad"
	"incasso/clients/inipec"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/workflows"
)

// citizenRegistry is INAD: a natural person's digital domicile by fiscal code.
type citizenRegistry interface {
	Extract(ctx context.Context, fiscalCode, practicalReference string) (inad.Answer, error)
}

// companyRegistry is INI-PEC: a company's PEC by fiscal code or VAT number.
type companyRegistry interface {
	Lookup(ctx context.Context, fiscalCode string, interval time.Duration) (inipec.Answer, error)
}

var (
	_ citizenRegistry = (*inad.Client)(nil)
	_ companyRegistry = (*inipec.Client)(nil)
)

// Registries of digital domiciles.
const (
	registryINAD   = "INAD"
	registryINIPEC = "INIPEC"
)

// inipecPoll is how often an INI-PEC list is asked for while InfoCamere prepares it.
const inipecPoll = 2 * time.Second

// domicileSteps are the steps whose PEC goes to the digital domicile, looked up first: the
// sollecito by PEC and the accertamento.
var domicileSteps = map[string]bool{workflows.StepSollecito: true, workflows.StepAccertamento: true}

// pecReaches tells whether a PEC reaches the debtor at the step: at the digital domicile INAD
// or INI-PEC gives, for the steps that look it up, else at the PEC of the debtor's file, which
// is a fallback and not the authority: an accertamento SEND can notify goes by SEND instead,
// which gets the file's PEC as the recipient's special domicile.
func (a *Debts) pecReaches(ctx context.Context, d dbgen.DebtPosition, step string) (bool, error) {
	if domicileSteps[step] {
		addr, err := a.domicile(ctx, d, step)
		if err != nil || addr != "" {
			return addr != "", err
		}
		if step == workflows.StepAccertamento && a.SEND != nil {
			return false, nil
		}
	}
	return d.DebtorPec != "", nil
}

// domicile is the digital domicile to write the step's act to: the one found in INAD (debtor
// type F) or INI-PEC (G) the first time the step looked, recorded with the registry's exact
// answer and its hash as the proof of the address used. Empty when the registry has none, or
// when incasso is configured without registries.
func (a *Debts) domicile(ctx context.Context, d dbgen.DebtPosition, step string) (string, error) {
	q := dbgen.New(a.Pool)
	found, err := q.GetDomicileLookup(ctx, dbgen.GetDomicileLookupParams{DebtID: d.ID, Step: step})
	if err = db.NotFound(err); err == nil {
		return found.Address, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return "", fmt.Errorf("load domicile lookup of debt %d: %w", d.ID, err)
	}
	row := dbgen.InsertDomicileLookupParams{DebtID: d.ID, Step: step,
		RetentionUntil: date.InRome(time.Now()).Time().AddDate(a.RetentionYears, 0, 0)}
	switch {
	case d.DebtorType == "F" && a.INAD != nil:
		ans, err := a.INAD.Extract(ctx, d.DebtorFiscalCode, fmt.Sprintf("incasso-%d-%s", d.ID, step))
		if err != nil {
			return "", fmt.Errorf("look debt %d's debtor up in INAD: %w", d.ID, err)
		}
		row.Registry, row.Found, row.Address, row.Answer = registryINAD, ans.Found, ans.Address, ans.Raw
	case d.DebtorType == "G" && a.INIPEC != nil:
		ans, err := a.INIPEC.Lookup(ctx, d.DebtorFiscalCode, inipecPoll)
		if err != nil {
			return "", fmt.Errorf("look debt %d's debtor up in INI-PEC: %w", d.ID, err)
		}
		row.Registry, row.Found, row.Address, row.Answer = registryINIPEC, ans.Found, ans.Address, ans.Raw
	default:
		return "", nil
	}
	sum := sha256.Sum256(row.Answer)
	row.Sha256 = sum[:]
	if err := q.InsertDomicileLookup(ctx, row); err != nil {
		return "", fmt.Errorf("record domicile lookup of debt %d: %w", d.ID, err)
	}
	// A concurrent attempt may have recorded its lookup first: that one stands.
	found, err = q.GetDomicileLookup(ctx, dbgen.GetDomicileLookupParams{DebtID: d.ID, Step: step})
	if err != nil {
		return "", fmt.Errorf("reload domicile lookup of debt %d: %w", d.ID, err)
	}
	return found.Address, nil
}
