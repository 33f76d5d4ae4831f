package debts

import (
	"errors"
	"slices"
	"strings"

	"incasso/app/config"
	"incasso/domain/pagopa"
)

// GPD states of a position that incasso can take over from the previous platform: it updates
// the position in GPD, publishing it, instead of creating one. A paid, invalid or expired
// position is not a debt to collect.
var adoptable = []string{"DRAFT", "PUBLISHED", "VALID"}

// ErrNAVTaken is returned by Store when the notice number to adopt belongs to another debt.
var ErrNAVTaken = errors.New("notice number already used by another debt")

// validateAdoption checks the notice number and GPD state a position brings from the
// previous platform: both or neither; a NAV of the creditor's segregation code with valid
// check digits, which IUV (the NAV without its aux digit) may give instead.
func (n New) validateAdoption(creditor config.Creditor, add func(field, msg string)) {
	nav, field := n.NAV, "nav"
	switch {
	case n.IUV != "" && n.NAV != "" && n.NAV[min(1, len(n.NAV)):] != n.IUV:
		add("iuv", "must be the nav without its first digit, or left out")
		return
	case n.IUV != "" && n.NAV == "":
		nav, field = pagopa.AuxDigit+n.IUV, "iuv"
	}
	if nav == "" {
		if n.GPDStatus != "" {
			add("gpdStatus", "only with the nav of a position taken over from the previous platform")
		}
		return
	}
	parsed, err := pagopa.ParseNAV(nav)
	switch {
	case err != nil && field == "iuv":
		add(field, "not a valid IUV: 17 digits, segregation code first and check digits last")
	case err != nil:
		add(field, "not a valid notice number: 18 digits, aux digit "+pagopa.AuxDigit+" first and check digits last")
	case parsed.Segregation != creditor.Segregation:
		add(field, "not of this comune's segregation code")
	}
	if !slices.Contains(adoptable, n.GPDStatus) {
		add("gpdStatus", "required with a nav: the position's state in GPD, one of "+strings.Join(adoptable, ", "))
	}
}

// AdoptedNAV is the notice number n takes over, empty when incasso draws one.
func (n New) AdoptedNAV() string {
	if n.NAV == "" && n.IUV != "" {
		return pagopa.AuxDigit + n.IUV
	}
	return n.NAV
}
