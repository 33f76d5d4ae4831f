// Package campaigncsv writes generated campaign files for the bench and make chaos: valid
// rows with distinct iupds, valid fiscal codes and one email address per row.
package campaigncsv

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"incasso/domain/fiscalcode"
)

// Header is the campaign CSV's header (see package campaigns).
const Header = "iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale"

// IUPD is the iupd of row i (from 1) of a file written with prefix.
func IUPD(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }

// Email is the debtor's address of row i (from 1).
func Email(i int) string { return fmt.Sprintf("debitore%d@example.it", i) }

// Write writes rows valid rows (iupds IUPD(prefix, 1)..., addresses Email(1)..., due dates 60
// days ahead) to path and returns the file's size.
func Write(path, prefix string, rows int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(uint64(rows), 2026))
	due := time.Now().AddDate(0, 0, 60).Format("02/01/2006")
	names := []string{"Mario Rossi", "Giulia Bianchi", "Luca Esposito", "Anna Romano", "Marco Colombo", "Sara Ricci"}
	fmt.Fprintln(w, Header)
	for i := 1; i <= rows; i++ {
		cf, err := PersonCode(r)
		if err != nil {
			return 0, err
		}
		cents := 1000 + r.IntN(200_000)
		fmt.Fprintf(w, "%s;TARI;F;%s;%s;%s;;%d,%02d;%s;TARI 2026 rata unica\n",
			IUPD(prefix, i), cf, names[i%len(names)], Email(i), cents/100, cents%100, due)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// PersonCode makes a random, valid codice fiscale of a natural person.
func PersonCode(r *rand.Rand) (string, error) {
	b := make([]byte, 15)
	for i := range 6 {
		b[i] = byte('A' + r.IntN(26))
	}
	yy := r.IntN(100)
	b[6], b[7] = byte('0'+yy/10), byte('0'+yy%10)
	b[8] = "ABCDEHLMPRST"[r.IntN(12)]
	day := 1 + r.IntN(28)
	if r.IntN(2) == 0 {
		day += 40 // a woman
	}
	b[9], b[10] = byte('0'+day/10), byte('0'+day%10)
	b[11] = byte('A' + r.IntN(26))
	for i := 12; i < 15; i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	c, err := fiscalcode.CheckChar(string(b))
	if err != nil {
		return "", err
	}
	code := string(b) + string(c)
	if _, err := fiscalcode.Validate(code); err != nil {
		return "", fmt.Errorf("generated an invalid fiscal code: %w", err)
	}
	return code, nil
}
