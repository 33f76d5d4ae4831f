package console

import (
	"net/http"
	"net/url"

	"incasso/domain/date"
	"incasso/services/fault"
	"incasso/services/reconciliation"
	"incasso/services/treasury"
)

// reconciliationPage is the page Riconciliazione of a day (?giorno=YYYY-MM-DD, today by
// default): per service the receipts paid that day against the flows and the credits, the
// treasury's entries booked that day, and the differences still open with their reason code.
func (c *Console) reconciliationPage(w http.ResponseWriter, r *http.Request, s session) {
	day, ok := c.dayOf(w, r, s, r.URL.Query().Get("giorno"))
	if !ok {
		return
	}
	data := map[string]any{}
	if r.URL.Query().Get("esito") == "risolta" {
		data["Done"] = "Differenza risolta."
	}
	c.showReconciliation(w, r, s, day, http.StatusOK, data)
}

// dayOf reads the day v (today when empty), or answers a 400 page.
func (c *Console) dayOf(w http.ResponseWriter, r *http.Request, s session, v string) (date.Date, bool) {
	if v == "" {
		return c.today(), true
	}
	d, err := date.Parse(v)
	if err != nil {
		c.errorPage(w, r, &s, http.StatusBadRequest, "Giorno non valido: indicarlo come AAAA-MM-GG.")
		return date.Date{}, false
	}
	return d, true
}

// showReconciliation renders the page of day with data (a message or an error).
func (c *Console) showReconciliation(w http.ResponseWriter, r *http.Request, s session, day date.Date, status int, data map[string]any) {
	view, err := (&treasury.Intake{Pool: c.deps.Pool}).Day(r.Context(), day)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	data["Day"], data["ISO"] = view, day.String()
	data["Resolutions"] = []string{reconciliation.Accepted, reconciliation.RefundRequested, reconciliation.WrittenOff}
	c.render(w, r, status, "reconciliation", &s, data)
}

// resolveDifference resolves a difference with the resolution and reason of the form, as
// POST /v1/reconciliation/differences/{id}/resolve does, and goes back to the day's page.
func (c *Console) resolveDifference(w http.ResponseWriter, r *http.Request, s session) {
	id, ok := pathID(r, "id")
	if !ok {
		c.errorPage(w, r, &s, http.StatusNotFound, "Differenza non trovata.")
		return
	}
	day, ok := c.dayOf(w, r, s, r.PostFormValue("giorno"))
	if !ok {
		return
	}
	_, err := reconciliation.Resolve(r.Context(), c.deps.Pool, id, r.PostFormValue("resolution"), s.Principal.Actor(), r.PostFormValue("reason"))
	f, isFault := fault.As(err)
	switch {
	case err == nil:
		c.log().Info("difference resolved from the console", "difference_id", id, "actor", s.Principal.Actor())
		http.Redirect(w, r, "/console/riconciliazione?"+url.Values{"giorno": {day.String()}, "esito": {"risolta"}}.Encode(), http.StatusSeeOther)
	case isFault && f.Kind == fault.NotFound:
		c.errorPage(w, r, &s, http.StatusNotFound, "Differenza non trovata.")
	case isFault:
		c.showReconciliation(w, r, s, day, faultStatus(f), map[string]any{"Error": faultMessage(f)})
	default:
		c.fail(w, r, &s, err)
	}
}
