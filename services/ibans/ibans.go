// Package ibans keeps the IBANs of SEPA mandates encrypted in PostgreSQL: each is sealed with
// the newest key of INCASSO_IBAN_KEYS (AES-256-GCM, keyring.Ring), bound to its mandate's
// reference (a sealed IBAN copied to another mandate does not open), the key's id stored
// beside it. Reading opens it with whichever key of the ring sealed it, so a key is rotated
// without downtime: put the new key first on every process, then Rekey re-encrypts the
// mandates in batches, IBANs stored in clear before included, and the old key can go.
//
// The API seals a mandate's IBAN when it stores it; the activities open it to write the
// pain.008 file and to mask it in letters.
package ibans

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/keyring"
	"incasso/domain/sepa"
)

// Stored is an IBAN as a row of sdd_mandates holds it: sealed, or in clear (rows stored before
// encryption, or with INCASSO_IBAN_ENCRYPTION=off).
type Stored struct {
	Plain  pgtype.Text
	Sealed []byte
	KeyID  pgtype.Text
}

// Of is the stored IBAN of a mandate.
func Of(m dbgen.SddMandate) Stored {
	return Stored{Plain: m.Iban, Sealed: m.IbanSealed, KeyID: m.IbanKeyID}
}

// ErrNoKeys is returned when a sealed IBAN is read without keys.
var ErrNoKeys = errors.New("sealed IBANs cannot be read without INCASSO_IBAN_KEYS")

// Vault seals and opens IBANs with a ring; without one (encryption off) it stores them in clear.
type Vault struct {
	Ring *keyring.Ring
}

func additional(reference string) []byte { return []byte("sdd_mandates.iban/" + reference) }

// Seal is how the IBAN of the mandate with that reference is stored.
func (v Vault) Seal(reference, iban string) Stored {
	if v.Ring == nil {
		return Stored{Plain: pgtype.Text{String: iban, Valid: true}}
	}
	id, sealed := v.Ring.Seal([]byte(iban), additional(reference))
	return Stored{Sealed: sealed, KeyID: pgtype.Text{String: id, Valid: true}}
}

// Open returns the IBAN of the mandate with that reference.
func (v Vault) Open(reference string, s Stored) (string, error) {
	if !s.KeyID.Valid {
		return s.Plain.String, nil
	}
	if v.Ring == nil {
		return "", fmt.Errorf("mandate %s: %w", reference, ErrNoKeys)
	}
	plain, err := v.Ring.Open(s.KeyID.String, s.Sealed, additional(reference))
	if err != nil {
		return "", fmt.Errorf("open the IBAN of mandate %s: %w", reference, err)
	}
	return string(plain), nil
}

// Mandate returns the IBAN of a mandate.
func (v Vault) Mandate(m dbgen.SddMandate) (string, error) { return v.Open(m.Reference, Of(m)) }

// Rekey seals with the ring's current key, batch by batch (each in its own transaction), every
// mandate whose IBAN is in clear or sealed with another key, and returns how many it sealed.
// Other processes keep reading meanwhile, as long as their rings hold both keys; two Rekeys at
// once share the work.
func (v Vault) Rekey(ctx context.Context, pool *pgxpool.Pool, batch int) (int, error) {
	if v.Ring == nil {
		return 0, errors.New("rekey: INCASSO_IBAN_KEYS is not set")
	}
	total := 0
	for {
		n := 0
		err := db.InTx(ctx, pool, func(q *dbgen.Queries) error {
			rows, err := q.MandateIBANsToRekey(ctx, dbgen.MandateIBANsToRekeyParams{KeyID: v.Ring.Current(), Batch: int32(batch)})
			if err != nil {
				return fmt.Errorf("read mandates to rekey: %w", err)
			}
			for _, r := range rows {
				iban, err := v.Open(r.Reference, Stored{Plain: r.Iban, Sealed: r.IbanSealed, KeyID: r.IbanKeyID})
				if err != nil {
					return err
				}
				s := v.Seal(r.Reference, iban)
				if err := q.SealMandateIBAN(ctx, dbgen.SealMandateIBANParams{ID: r.ID, IbanSealed: s.Sealed, IbanKeyID: s.KeyID}); err != nil {
					return fmt.Errorf("seal the IBAN of mandate %s: %w", r.Reference, err)
				}
			}
			n = len(rows)
			return nil
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// Masked is a mandate's IBAN as messages to the debtor show it: country, check digits and the
// last four characters.
func (v Vault) Masked(m dbgen.SddMandate) (string, error) {
	iban, err := v.Mandate(m)
	if err != nil {
		return "", err
	}
	return sepa.MaskIBAN(iban), nil
}
