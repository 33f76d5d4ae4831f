package console

import (
	"net/http"

	"incasso/domain/date"
	"incasso/services/treasury"
)

// reconciliationPage is the page Riconciliazione of a day (?giorno=YYYY-MM-DD, today by
// default): per service the receipts paid that day against the flows and the credits, the
// treasury's entries booked that day, and the differences still open with their reason code.
func (c *Console) reconciliationPage(w http.ResponseWriter, r *http.Request, s session) {
	day := c.today()
	if v := r.URL.Query().Get("giorno"); v != "" {
		d, err := date.Parse(v)
		if err != nil {
			c.errorPage(w, r, &s, http.StatusBadRequest, "Giorno non valido: indicarlo come AAAA-MM-GG.")
			return
		}
		day = d
	}
	view, err := (&treasury.Intake{Pool: c.deps.Pool}).Day(r.Context(), day)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	c.render(w, r, http.StatusOK, "reconciliation", &s, map[string]any{"Day": view, "ISO": day.String()})
}
