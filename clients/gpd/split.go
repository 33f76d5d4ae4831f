package gpd

import (
	"fmt"
	"math"
	"strconv"
)

// MaxTransfers is how many transfers a payment option may have.
const MaxTransfers = 5

// Share is one beneficiary's part of a payment option, for SplitTransfers.
type Share struct {
	BasisPoints            int64  // parts of 10,000 of the amount
	Category               string // the taxonomy code of the transfer
	IBAN                   string
	RemittanceInformation  string
	OrganizationFiscalCode string // empty: the organization of the position
	CompanyName            string // the beneficiary's name, with OrganizationFiscalCode
}

// SplitTransfers divides total cents among shares whose basis points sum to 10,000: each
// transfer gets its share rounded down and the first one the remaining cents, so the
// transfers sum exactly to total. Transfers are numbered "1" to "5", in the order of shares.
// It fails with ErrInvalidShares for no share or more than MaxTransfers, basis points that
// are not positive or do not sum to 10,000, and a total too small to give each share a cent.
func SplitTransfers(total int64, shares []Share) ([]Transfer, error) {
	if total < 1 || total > math.MaxInt64/10_000 {
		return nil, fmt.Errorf("%w: %d cents cannot be split", ErrInvalidShares, total)
	}
	if len(shares) == 0 || len(shares) > MaxTransfers {
		return nil, fmt.Errorf("%w: %d shares, want 1 to %d", ErrInvalidShares, len(shares), MaxTransfers)
	}
	var points int64
	for i, s := range shares {
		if s.BasisPoints <= 0 {
			return nil, fmt.Errorf("%w: share %d has %d basis points", ErrInvalidShares, i+1, s.BasisPoints)
		}
		points += s.BasisPoints
	}
	if points != 10_000 {
		return nil, fmt.Errorf("%w: basis points sum to %d, want 10000", ErrInvalidShares, points)
	}
	transfers := make([]Transfer, len(shares))
	rest := total
	for i, s := range shares {
		amount := total * s.BasisPoints / 10_000
		if i > 0 && amount < 1 {
			return nil, fmt.Errorf("%w: %d cents give share %d no cent", ErrInvalidShares, total, i+1)
		}
		rest -= amount
		transfers[i] = Transfer{
			IDTransfer: strconv.Itoa(i + 1), Amount: amount, RemittanceInformation: s.RemittanceInformation,
			Category: s.Category, IBAN: s.IBAN, OrganizationFiscalCode: s.OrganizationFiscalCode, CompanyName: s.CompanyName,
		}
	}
	transfers[0].Amount += rest
	if transfers[0].Amount < 1 {
		return nil, fmt.Errorf("%w: %d cents give share 1 no cent", ErrInvalidShares, total)
	}
	return transfers, nil
}
