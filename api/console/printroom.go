package console

import (
	"net/http"
	"net/url"
	"strconv"

	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/fault"
	"incasso/services/printroom"
)

// printQueueRows is how many letters a page of Posta in uscita shows, oldest first.
const printQueueRows = 200

// printQueuePage is the page Posta in uscita: the letters waiting for the print room (status
// PRINT), oldest first (?dopo= the last letter of the page before), each with its PDF and a
// form marking it posted on a day (today by default).
func (c *Console) printQueuePage(w http.ResponseWriter, r *http.Request, s session) {
	data := map[string]any{}
	if r.URL.Query().Get("esito") == "spedita" {
		data["Done"] = "Lettera segnata come spedita."
	}
	c.showPrintQueue(w, r, s, http.StatusOK, data)
}

// showPrintQueue renders the page of the queue the request asks with data (a message or an
// error).
func (c *Console) showPrintQueue(w http.ResponseWriter, r *http.Request, s session, status int, data map[string]any) {
	var after int64
	if v := r.URL.Query().Get("dopo"); v != "" {
		var err error
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			c.errorPage(w, r, &s, http.StatusBadRequest, "Pagina non valida.")
			return
		}
	}
	letters, next, err := printroom.Queue(r.Context(), dbgen.New(c.deps.Pool), after, printQueueRows)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	data["Letters"], data["Today"], data["Next"] = letters, c.today().String(), next
	c.render(w, r, status, "printroom", &s, data)
}

// markLetterPosted marks a letter posted on the form's day, as POST
// /v1/communications/{id}/posted does, and goes back to the queue.
func (c *Console) markLetterPosted(w http.ResponseWriter, r *http.Request, s session) {
	id, ok := pathID(r, "id")
	if !ok {
		c.errorPage(w, r, &s, http.StatusNotFound, "Lettera non trovata.")
		return
	}
	on, err := date.Parse(r.PostFormValue("giorno"))
	if err != nil {
		c.showPrintQueue(w, r, s, http.StatusUnprocessableEntity, map[string]any{"Error": "Indicare il giorno della spedizione come AAAA-MM-GG."})
		return
	}
	_, err = printroom.Posted(r.Context(), dbgen.New(c.deps.Pool), id, on, c.deps.Now())
	f, isFault := fault.As(err)
	switch {
	case err == nil:
		c.log().Info("letter marked posted from the console", "communication_id", id, "actor", s.Principal.Actor())
		http.Redirect(w, r, "/console/posta?"+url.Values{"esito": {"spedita"}}.Encode(), http.StatusSeeOther)
	case isFault && f.Kind == fault.NotFound:
		c.errorPage(w, r, &s, http.StatusNotFound, "Lettera non trovata.")
	case isFault && f.Kind == fault.Invalid:
		c.showPrintQueue(w, r, s, faultStatus(f), map[string]any{"Error": "Il giorno della spedizione non può essere nel futuro, né precedente alla lettera."})
	case isFault:
		c.showPrintQueue(w, r, s, faultStatus(f), map[string]any{"Error": "La lettera non è più in attesa di spedizione, o è stata segnata spedita in un altro giorno."})
	default:
		c.fail(w, r, &s, err)
	}
}
