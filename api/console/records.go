package console

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/fiscalcode"
	"incasso/services/audit"
)

// The debt page and the debtor's file show what GET /v1/debts/{iupd} and POST
// /v1/debtors/file show, as Deps.Debt and Deps.DebtorFile assemble it for both.

// debtPage shows one debt: its state, notices, receipts, messages, changes and plan.
func (c *Console) debtPage(w http.ResponseWriter, r *http.Request, s session) {
	iupd := r.PathValue("iupd")
	d, err := c.deps.Debt(r.Context(), iupd)
	if errors.Is(err, db.ErrNotFound) {
		c.errorPage(w, r, &s, http.StatusNotFound, "Nessuna posizione con questo IUPD.")
		return
	} else if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	c.render(w, r, http.StatusOK, "debt", &s, map[string]any{"D": d, "Escaped": url.PathEscape(iupd)})
}

var navPattern = regexp.MustCompile(`^[0-3][0-9]{17}$`)

// search takes what the search box got: a notice number (NAV) or an iupd opens the debt's
// page, a fiscal code or partita IVA shows the debtor's file. It is a POST, so no fiscal code
// lands in a URL, a log or the browser's history; the audit trail names the debtor by
// pseudonym.
func (c *Console) search(w http.ResponseWriter, r *http.Request, s session) {
	text := strings.TrimSpace(r.PostFormValue("q"))
	none := func(msg string) {
		c.render(w, r, http.StatusNotFound, "debtor", &s, map[string]any{"Error": msg})
	}
	if text == "" {
		none("Inserire un codice fiscale, un numero avviso o uno IUPD.")
		return
	}
	q := dbgen.New(c.deps.Pool)
	if compact := strings.ReplaceAll(text, " ", ""); navPattern.MatchString(compact) {
		d, err := q.GetDebtByNAV(r.Context(), compact)
		if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
			none("Nessuna posizione con questo numero avviso.")
			return
		} else if err != nil {
			c.fail(w, r, &s, err)
			return
		}
		http.Redirect(w, r, "/console/posizioni/"+url.PathEscape(d.Iupd), http.StatusSeeOther)
		return
	}
	if fc := fiscalcode.Normalize(text); validFiscalCode(fc) {
		notesOf(r)["debtor"] = audit.Pseudonym(c.auditKey, fc)
		file, err := c.deps.DebtorFile(r.Context(), fc)
		if errors.Is(err, db.ErrNotFound) {
			none("Nessuna posizione di questo contribuente.")
			return
		} else if err != nil {
			c.fail(w, r, &s, err)
			return
		}
		c.render(w, r, http.StatusOK, "debtor", &s, map[string]any{"File": file})
		return
	}
	if _, err := c.deps.Debt(r.Context(), text); errors.Is(err, db.ErrNotFound) {
		none("Nessuna posizione trovata: né un codice fiscale valido, né un numero avviso, né uno IUPD esistente.")
		return
	} else if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	http.Redirect(w, r, "/console/posizioni/"+url.PathEscape(text), http.StatusSeeOther)
}

func validFiscalCode(fc string) bool {
	_, err := fiscalcode.Validate(fc)
	return err == nil
}
