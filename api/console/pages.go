package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"incasso/domain/date"
	"incasso/services/campaigns"
	"incasso/services/fault"
	"incasso/workflows"
)

const (
	campaignsPerPage = 50
	debtsPerPage     = 50
)

func (c *Console) listCampaigns(w http.ResponseWriter, r *http.Request, s session) {
	before := int64(math.MaxInt64)
	if v := r.URL.Query().Get("prima"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			c.errorPage(w, r, &s, http.StatusBadRequest, "Pagina non valida.")
			return
		}
		before = n
	}
	list, err := c.deps.Campaigns.List(r.Context(), before, campaignsPerPage)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	next := ""
	if len(list) == campaignsPerPage {
		next = fmt.Sprintf("/console/campagne?prima=%d", list[len(list)-1].ID)
	}
	c.render(w, r, http.StatusOK, "campaigns", &s, map[string]any{"Campaigns": list, "Next": next, "First": before == math.MaxInt64})
}

func (c *Console) newCampaignForm(w http.ResponseWriter, r *http.Request, s session) {
	c.render(w, r, http.StatusOK, "new", &s, map[string]any{"MaxRows": campaigns.MaxRows})
}

// importCampaign imports the posted file with campaigns.Import, as POST /v1/campaigns does,
// and shows the report of a refused file.
func (c *Console) importCampaign(w http.ResponseWriter, r *http.Request, s session) {
	name := r.PostFormValue("name")
	validOnly := r.PostFormValue("validOnly") != ""
	data := map[string]any{"MaxRows": campaigns.MaxRows, "Name": name, "ValidOnly": validOnly}
	refuse := func(msg string) {
		data["Error"] = msg
		c.render(w, r, http.StatusUnprocessableEntity, "new", &s, data)
	}
	if strings.TrimSpace(name) == "" {
		refuse("Indicare il nome della campagna.")
		return
	}
	f, header, err := r.FormFile("file")
	if err != nil {
		refuse("Scegliere il file della campagna (CSV o JSON).")
		return
	}
	defer f.Close()
	format := campaigns.FormatCSV
	if strings.EqualFold(filepath.Ext(header.Filename), ".json") || strings.HasPrefix(header.Header.Get("Content-Type"), "application/json") {
		format = campaigns.FormatJSON
	}
	res, err := campaigns.Import(r.Context(), c.deps.Pool, c.deps.Config, f, format, campaigns.Options{
		Name: name, Filename: filepath.Base(header.Filename), ValidOnly: validOnly,
		CreatedBy: s.Principal.Actor(), Today: c.today(),
	})
	var fileErr *campaigns.FileError
	switch {
	case err == nil:
		c.log().Info("campaign imported from the console", "campaign_id", res.CampaignID, "rows", res.Valid, "rejected", res.Rejected)
		http.Redirect(w, r, fmt.Sprintf("/console/campagne/%d?esito=importata", res.CampaignID), http.StatusSeeOther)
	case errors.Is(err, campaigns.ErrInvalidOptions):
		refuse(fmt.Sprintf("Il nome della campagna è obbligatorio: al massimo %d caratteri stampabili.", campaigns.MaxNameLength))
	case errors.As(err, &fileErr):
		data["Report"] = []campaigns.RowError{{Row: fileErr.Row, Message: fileErr.Message}}
		refuse("Il file non è leggibile: non è stato importato nulla.")
	case errors.Is(err, campaigns.ErrInvalidFile):
		data["Report"], data["Result"] = res.Errors, res
		msg := fmt.Sprintf("Il file ha %s in %s su %d: non è stato importato nulla.",
			plural(res.TotalErrors, "errore", "errori"), plural(res.Rejected, "riga", "righe"), res.Rows)
		if validOnly {
			msg = "Il file non ha nessuna riga valida: non è stato importato nulla."
		}
		refuse(msg)
	default:
		c.fail(w, r, &s, err)
	}
}

// outcomes are the messages a campaign page shows after an action (?esito=).
var outcomes = map[string]string{
	"importata": "Campagna importata: controllare i dati e avviarla.",
	"avviata":   "Avvio richiesto: i debiti vengono creati al ritmo indicato.",
	"pausa":     "Pausa richiesta: nessun nuovo debito viene avviato finché la campagna non riprende.",
	"ripresa":   "Ripresa richiesta.",
	"annullata": "Annullamento richiesto: non vengono avviati altri debiti; quelli già avviati proseguono.",
	"ritirata":  "Ritiro avviato: i debiti non pagati vengono annullati e i debitori avvisati.",
}

func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request, s session) {
	id, ok := pathID(r, "id")
	if !ok {
		c.errorPage(w, r, &s, http.StatusNotFound, "Campagna non trovata.")
		return
	}
	c.showCampaign(w, r, s, id, http.StatusOK, nil)
}

// showCampaign renders the campaign page; extra adds to (or overrides) its data.
func (c *Console) showCampaign(w http.ResponseWriter, r *http.Request, s session, id int64, status int, extra map[string]any) {
	ctx := r.Context()
	p, err := c.deps.Campaigns.Progress(ctx, id)
	if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
		c.errorPage(w, r, &s, http.StatusNotFound, "Campagna non trovata.")
		return
	} else if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	pages := max(1, int((p.Started+debtsPerPage-1)/debtsPerPage))
	page := 1
	if v := r.URL.Query().Get("pagina"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			page = 1
		}
	}
	page = min(page, pages)
	debts, err := c.deps.Campaigns.Debts(ctx, id, (page-1)*debtsPerPage, debtsPerPage)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	debtPage := make([]debtRow, len(debts))
	for i, d := range debts {
		debtPage[i] = debtRow{Debt: d, DebtURL: "/console/posizioni/" + url.PathEscape(d.IUPD),
			WorkflowURL: c.deps.WorkflowURL(workflows.DebtWorkflowID(c.deps.Config.Creditor.FiscalCode, d.IUPD))}
	}
	days, err := c.deps.Campaigns.CollectedByDay(ctx, id)
	if err != nil {
		c.fail(w, r, &s, err)
		return
	}
	from := date.InRome(p.CreatedAt)
	if p.LaunchedAt != nil {
		from = date.InRome(*p.LaunchedAt)
	}
	data := map[string]any{
		"P":           p,
		"Debts":       debtPage,
		"Page":        page,
		"Pages":       pages,
		"Chart":       buildChart(days, p.Amounts.IssuedCents, from, c.today()),
		"Outcome":     outcomes[r.URL.Query().Get("esito")],
		"Finished":    finished(p.Status),
		"Rate":        p.StartRate,
		"CanLaunch":   p.Status == workflows.CampaignReady,
		"CanPause":    p.Status == workflows.CampaignRunning,
		"CanResume":   p.Status == workflows.CampaignPaused,
		"CanCancel":   p.Status == workflows.CampaignRunning || p.Status == workflows.CampaignPaused,
		"CanWithdraw": p.Status != workflows.CampaignWithdrawn,
		"WorkflowURL": c.deps.WorkflowURL(p.WorkflowID),
	}
	for k, v := range extra {
		data[k] = v
	}
	c.render(w, r, status, "campaign", &s, data)
}

func finished(status string) bool {
	switch status {
	case workflows.CampaignCompleted, workflows.CampaignCancelled, workflows.CampaignWithdrawn:
		return true
	}
	return false
}

// debtRow is a line of the campaign page's list of debts.
type debtRow struct {
	campaigns.Debt
	DebtURL     string // the debt's page
	WorkflowURL string // its workflow in the Temporal Web UI, or ""
}

// today is the date in Rome.
func (c *Console) today() date.Date { return date.InRome(c.deps.Now()) }

// campaignAction runs a button of the campaign page through the campaign service.
func (c *Console) campaignAction(w http.ResponseWriter, r *http.Request, s session) {
	id, ok := pathID(r, "id")
	if !ok {
		c.errorPage(w, r, &s, http.StatusNotFound, "Campagna non trovata.")
		return
	}
	ctx := r.Context()
	var err error
	var outcome string
	extra := map[string]any{}
	switch r.PathValue("action") {
	case "avvia":
		rate := 0
		if v := strings.TrimSpace(r.PostFormValue("rate")); v != "" {
			if rate, err = strconv.Atoi(v); err != nil || rate < 1 || rate > campaigns.MaxRate {
				c.showCampaign(w, r, s, id, http.StatusUnprocessableEntity, map[string]any{"Error": "Il ritmo di avvio va da 1 a 1000 debiti al secondo."})
				return
			}
		}
		err, outcome = c.deps.Campaigns.Launch(ctx, id, rate), "avviata"
	case "pausa":
		err, outcome = c.deps.Campaigns.Signal(ctx, id, workflows.SignalCampaignPause), "pausa"
	case "riprendi":
		err, outcome = c.deps.Campaigns.Signal(ctx, id, workflows.SignalCampaignResume), "ripresa"
	case "annulla":
		err, outcome = c.deps.Campaigns.Signal(ctx, id, workflows.SignalCampaignCancel), "annullata"
	case "ritira":
		reason := r.PostFormValue("reason")
		extra["Reason"] = reason
		err, outcome = c.deps.Campaigns.Withdraw(ctx, id, reason, r.PostFormValue("confirm")), "ritirata"
	default:
		c.errorPage(w, r, &s, http.StatusNotFound, "Operazione sconosciuta.")
		return
	}
	f, isFault := fault.As(err)
	switch {
	case err == nil:
		c.log().Info("campaign action from the console", "campaign_id", id, "action", r.PathValue("action"), "actor", s.Principal.Actor())
		http.Redirect(w, r, fmt.Sprintf("/console/campagne/%d?esito=%s", id, outcome), http.StatusSeeOther)
	case isFault:
		if f.Kind == fault.NotFound {
			c.errorPage(w, r, &s, http.StatusNotFound, "Campagna non trovata.")
			return
		}
		extra["Error"] = faultMessage(f)
		c.showCampaign(w, r, s, id, faultStatus(f), extra)
	default:
		c.fail(w, r, &s, err)
	}
}

// faultStatus is the HTTP status of the page that explains a refused operation.
func faultStatus(f *fault.Error) int {
	switch f.Kind {
	case fault.Invalid:
		return http.StatusUnprocessableEntity
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	default:
		return http.StatusServiceUnavailable
	}
}

// faultMessage says in Italian why an operation was refused.
func faultMessage(f *fault.Error) string {
	switch f.Kind {
	case fault.Conflict:
		return "Operazione non possibile nello stato attuale della campagna."
	case fault.Unavailable:
		return "Il motore dei processi (Temporal) non risponde: riprovare tra poco. Ripetere l'operazione è sicuro."
	case fault.Invalid:
		var msgs []string
		for _, fe := range f.Fields {
			switch fe.Field {
			case "reason":
				msgs = append(msgs, "Indicare il motivo del ritiro (da 1 a 500 caratteri, senza dati personali): viene comunicato ai debitori.")
			case "confirm":
				msgs = append(msgs, "Per confermare, scrivere il nome della campagna esattamente com'è.")
			case "rate":
				msgs = append(msgs, "Il ritmo di avvio va da 1 a 1000 debiti al secondo.")
			default:
				msgs = append(msgs, fe.Field+": "+fe.Message)
			}
		}
		return strings.Join(msgs, " ")
	}
	return "Operazione non riuscita (" + strconv.Itoa(faultStatus(f)) + ")."
}

// plural is "1 riga", "2 righe".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}
