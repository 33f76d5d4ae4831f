package pagopasim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/target2"
)

// FdRBasePath is where the simulated FdR organization API is mounted.
const FdRBasePath = "/fdr-org/service/v1"

// RemittancePrefix starts the remittance information of the credit transfer that pays a flow.
const RemittancePrefix = "/PUR/LGPE-RIVERSAMENTO/URI/"

// FlowFaults make the flows of a day wrong, as PSPs sometimes publish them.
type FlowFaults struct {
	Date date.Date `json:"date"` // the day of the payments
	// MissingLine leaves the last payment of each flow out.
	MissingLine bool `json:"missingLine,omitempty"`
	// WrongAmountCents is added to the amount of the first payment of each flow.
	WrongAmountCents money.Cents `json:"wrongAmountCents,omitempty"`
	// SecondRevision publishes a revision 2 of each flow, without the other faults.
	SecondRevision bool `json:"secondRevision,omitempty"`
	// DaysLate publishes the flows that many business days after the usual next business day.
	DaysLate int `json:"daysLate,omitempty"`
	// BadTotals declares in each flow's header one payment and one cent more than its lines:
	// a malformed flow.
	BadTotals bool `json:"badTotals,omitempty"`
	// PSP, when set, publishes (or revises) the flows of that PSP only.
	PSP string `json:"psp,omitempty"`
}

// PublishedFlow is a flow the simulator published, with what its PSP credits the comune.
type PublishedFlow struct {
	FlowID       string      `json:"flowId"`
	PSPID        string      `json:"pspId"`
	Organization string      `json:"organization"`
	Revision     int64       `json:"revision"`
	FlowDate     date.Date   `json:"flowDate"`
	Published    time.Time   `json:"published"`
	Payments     int         `json:"payments"`
	TotalCents   money.Cents `json:"totalCents"`
	// Remittance is the remittance information of the credit transfer of the flow's total.
	Remittance string `json:"remittance"`
}

type fdrPayment struct {
	Index      int64           `json:"index"`
	IUV        string          `json:"iuv"`
	IUR        string          `json:"iur"`
	IDTransfer int             `json:"idTransfer"`
	Pay        json.RawMessage `json:"pay"`
	PayStatus  string          `json:"payStatus"`
	PayDate    time.Time       `json:"payDate"`
}

type simFlow struct {
	PublishedFlow
	badTotals bool
	paidOn    date.Date
	payments  []fdrPayment // as published
	correct   []fdrPayment // what a corrected revision publishes
}

// ErrInvalidFlowFaults is returned by PublishFlows for faults it cannot apply.
var ErrInvalidFlowFaults = errors.New("invalid flow faults")

// PublishFlows publishes now the flows of the payments made on f.Date (in Rome): one per
// organization and PSP, a line per transfer to the organization, with f's faults, and returns
// them; of f.PSP only, when set. A PSP's flow of a day is published once: payments made after
// it go unreported. When a flow of the day is published already, f.SecondRevision publishes
// instead a corrected revision of each.
func (p *PagoPA) PublishFlows(f FlowFaults) ([]PublishedFlow, error) {
	if f.Date.IsZero() || f.DaysLate < 0 || f.DaysLate > 30 {
		return nil, fmt.Errorf("%w: date is required and daysLate must be 0 to 30", ErrInvalidFlowFaults)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.publish(f), nil
}

// Flows returns every flow published, every revision, oldest first.
func (p *PagoPA) Flows() []PublishedFlow {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PublishedFlow, 0, len(p.flows))
	for _, fl := range p.flows {
		out = append(out, fl.PublishedFlow)
	}
	return out
}

// publish makes the flows of f.Date; the caller holds p.mu.
func (p *PagoPA) publish(f FlowFaults) []PublishedFlow {
	if p.flowsOf == nil {
		p.flowsOf = map[string]bool{}
	}
	if f.SecondRevision && p.flowsOf[f.Date.String()] {
		return p.revise(f)
	}
	flowDate := target2.AddBusinessDays(f.Date, 1+f.DaysLate)
	published := time.Date(flowDate.Year, flowDate.Month, flowDate.Day, 6, 0, 0, 0, date.Rome)
	groups := map[[2]string][]fdrPayment{} // by organization and PSP
	var keys [][2]string
	for _, rc := range p.receipts {
		r := rc.Receipt
		paid, err := time.ParseInLocation("2006-01-02T15:04:05", r.PaymentDateTime, date.Rome)
		if err != nil || r.Outcome != "OK" || date.InRome(paid) != f.Date {
			continue
		}
		k := [2]string{rc.IDPA, r.IDPSP}
		if p.flowsOf[f.Date.String()+"/"+k[0]+"/"+k[1]] || (f.PSP != "" && f.PSP != k[1]) {
			continue // that PSP's flow of the day is published, or not asked for
		}
		for _, t := range r.Transfers {
			if cmp.Or(t.FiscalCodePA, rc.IDPA) != rc.IDPA {
				continue
			}
			idx, _ := strconv.Atoi(t.IDTransfer)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], fdrPayment{IUV: r.CreditorReferenceID, IUR: r.ReceiptID, IDTransfer: idx,
				Pay: json.RawMessage(t.TransferAmount), PayStatus: "EXECUTED", PayDate: paid})
		}
	}
	var out []PublishedFlow
	for _, k := range keys {
		p.flowsOf[f.Date.String()], p.flowsOf[f.Date.String()+"/"+k[0]+"/"+k[1]] = true, true
		lines := groups[k]
		p.flowSeq++
		id := fmt.Sprintf("%s%s-%07d", flowDate, k[1], p.flowSeq)
		faults := f
		faulty := slices.Clone(lines)
		if faults.MissingLine && len(faulty) > 1 {
			faulty = faulty[:len(faulty)-1]
		}
		if faults.WrongAmountCents != 0 {
			c, _ := money.ParseDecimal(string(faulty[0].Pay))
			faulty[0].Pay = json.RawMessage((c + faults.WrongAmountCents).Decimal())
		}
		out = append(out, p.addFlow(id, k, 1, f.Date, flowDate, published, faulty, lines))
		p.flows[len(p.flows)-1].badTotals = faults.BadTotals
		if f.SecondRevision {
			out = append(out, p.addFlow(id, k, 2, f.Date, flowDate, published.Add(time.Hour), lines, lines))
		}
	}
	return out
}

// addFlow stores a revision of a flow; the caller holds p.mu.
func (p *PagoPA) addFlow(id string, k [2]string, rev int64, paidOn, flowDate date.Date, published time.Time, lines, correct []fdrPayment) PublishedFlow {
	fl := &simFlow{PublishedFlow: PublishedFlow{FlowID: id, PSPID: k[1], Organization: k[0], Revision: rev, FlowDate: flowDate,
		Published: published, Payments: len(lines), Remittance: RemittancePrefix + id}, paidOn: paidOn, payments: make([]fdrPayment, len(lines))}
	fl.correct = correct
	for i, l := range lines {
		l.Index = int64(i + 1)
		c, _ := money.ParseDecimal(string(l.Pay))
		fl.TotalCents += c
		fl.payments[i] = l
	}
	p.flows = append(p.flows, fl)
	return fl.PublishedFlow
}

// revise publishes, for f.SecondRevision, a corrected revision of the latest revision of each
// flow of f.Date (of f.PSP, if set); it returns the day's flows. The caller holds p.mu.
func (p *PagoPA) revise(f FlowFaults) []PublishedFlow {
	latest := map[string]*simFlow{}
	var order []string
	for _, fl := range p.flows {
		if fl.paidOn != f.Date {
			continue
		}
		if latest[fl.FlowID] == nil {
			order = append(order, fl.FlowID)
		}
		if cur := latest[fl.FlowID]; cur == nil || fl.Revision > cur.Revision {
			latest[fl.FlowID] = fl
		}
	}
	var out []PublishedFlow
	for _, id := range order {
		fl := latest[id]
		if f.SecondRevision && (f.PSP == "" || f.PSP == fl.PSPID) {
			next := p.addFlow(id, [2]string{fl.Organization, fl.PSPID}, fl.Revision+1, f.Date, fl.FlowDate, fl.Published.Add(time.Hour), fl.correct, fl.correct)
			out = append(out, next)
			continue
		}
		out = append(out, fl.PublishedFlow)
	}
	return out
}

// publishDue publishes, as the PSPs do the next business day, the flows not published yet of
// the days with payments whose publication day has come; the caller holds p.mu.
func (p *PagoPA) publishDue(now time.Time) {
	today := date.InRome(now)
	seen := map[date.Date]bool{}
	for _, rc := range p.receipts {
		paid, err := time.ParseInLocation("2006-01-02T15:04:05", rc.Receipt.PaymentDateTime, date.Rome)
		if d := date.InRome(paid); err == nil && !seen[d] && !today.Before(target2.AddBusinessDays(d, 1)) {
			seen[d] = true
		}
	}
	days := make([]date.Date, 0, len(seen))
	for d := range seen {
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b date.Date) int { return a.Time().Compare(b.Time()) })
	for _, d := range days {
		p.publish(FlowFaults{Date: d})
	}
}

// listFlows is GET /organizations/{org}/fdrs: the latest revision of each flow of org
// published after publishedGt, by page.
func (p *PagoPA) listFlows(w http.ResponseWriter, r *http.Request) {
	org, q := r.PathValue("org"), r.URL.Query()
	page, size, ok := paging(w, q.Get("page"), q.Get("size"))
	if !ok {
		return
	}
	var after time.Time
	if s := q.Get("publishedGt"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fdrProblem(w, http.StatusBadRequest, "publishedGt is not a date-time")
			return
		}
		after = t
	}
	p.mu.Lock()
	p.publishDue(time.Now())
	latest := map[string]*simFlow{}
	var order []string
	for _, fl := range p.flows {
		if fl.Organization != org || !fl.Published.After(after) {
			continue
		}
		if _, ok := latest[fl.FlowID]; !ok {
			order = append(order, fl.FlowID)
		}
		if cur := latest[fl.FlowID]; cur == nil || fl.Revision > cur.Revision {
			latest[fl.FlowID] = fl
		}
	}
	p.mu.Unlock()
	type entry struct {
		FDR       string    `json:"fdr"`
		PSPID     string    `json:"pspId"`
		Revision  int64     `json:"revision"`
		Published time.Time `json:"published"`
		FlowDate  time.Time `json:"flowDate"`
	}
	data := []entry{}
	from, to := window(page, size, len(order))
	for _, id := range order[from:to] {
		fl := latest[id]
		data = append(data, entry{fl.FlowID, fl.PSPID, fl.Revision, fl.Published, fl.FlowDate.Time()})
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{"metadata": metadataOf(page, size, len(order)), "count": len(data), "data": data})
}

// flow finds the flow of the request's path; it answers 404 when there is none.
func (p *PagoPA) flow(w http.ResponseWriter, r *http.Request) (*simFlow, bool) {
	rev, err := strconv.ParseInt(r.PathValue("rev"), 10, 64)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fl := range p.flows {
		if err == nil && fl.FlowID == r.PathValue("fdr") && fl.Revision == rev && fl.PSPID == r.PathValue("psp") && fl.Organization == r.PathValue("org") {
			return fl, true
		}
	}
	fdrProblem(w, http.StatusNotFound, "Reporting flow not found")
	return nil, false
}

// getFlow is GET .../fdrs/{fdr}/revisions/{rev}/psps/{psp}: the flow's header.
func (p *PagoPA) getFlow(w http.ResponseWriter, r *http.Request) {
	fl, ok := p.flow(w, r)
	if !ok {
		return
	}
	total, count := json.RawMessage(fl.TotalCents.Decimal()), fl.Payments
	if fl.badTotals {
		count, total = count+1, json.RawMessage((fl.TotalCents + 1).Decimal())
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{
		"status": "PUBLISHED", "revision": fl.Revision, "created": fl.Published, "updated": fl.Published,
		"fdr": fl.FlowID, "fdrDate": fl.FlowDate.Time(), "regulation": "SCT-" + fl.FlowID, "regulationDate": fl.FlowDate.String(),
		"bicCodePouringBank": "UNCRITMMXXX", "published": fl.Published,
		"sender": map[string]any{"type": "LEGAL_PERSON", "id": "SELBIT2B", "pspId": fl.PSPID, "pspName": pspCompanyName,
			"pspBrokerId": fl.PSPID, "channelId": pspChannel},
		"receiver":            map[string]any{"id": "APPBIT2B", "organizationId": fl.Organization, "organizationName": "Ente"},
		"computedTotPayments": count, "computedSumPayments": total, "totPayments": count, "sumPayments": total,
	})
}

// getPayments is GET .../payments: the flow's payments by page.
func (p *PagoPA) getPayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size, ok := paging(w, q.Get("page"), q.Get("size"))
	if !ok {
		return
	}
	fl, ok := p.flow(w, r)
	if !ok {
		return
	}
	from, to := window(page, size, len(fl.payments))
	jsonhttp.Write(w, http.StatusOK, map[string]any{"metadata": metadataOf(page, size, len(fl.payments)),
		"count": to - from, "data": fl.payments[from:to]})
}

// paging reads page and size (defaults 1 and 1000); it answers 400 when they are wrong.
func paging(w http.ResponseWriter, pageS, sizeS string) (int, int, bool) {
	page, size := 1, 1000
	var err1, err2 error
	if pageS != "" {
		page, err1 = strconv.Atoi(pageS)
	}
	if sizeS != "" {
		size, err2 = strconv.Atoi(sizeS)
	}
	if err1 != nil || err2 != nil || page < 1 || size < 1 || size > 1000 {
		fdrProblem(w, http.StatusBadRequest, "page must be >= 1 and size 1 to 1000")
		return 0, 0, false
	}
	return page, size, true
}

// window is the slice of n items on page of size.
func window(page, size, n int) (int, int) {
	from := min((page-1)*size, n)
	return from, min(from+size, n)
}

func metadataOf(page, size, n int) map[string]int {
	return map[string]int{"pageSize": size, "pageNumber": page, "totPage": max(1, (n+size-1)/size)}
}

// fdrProblem answers an FdR ErrorResponse.
func fdrProblem(w http.ResponseWriter, status int, message string) {
	jsonhttp.Write(w, status, map[string]any{"httpStatusCode": status, "httpStatusDescription": http.StatusText(status),
		"appErrorCode": fmt.Sprintf("FDR-%04d", status), "errors": []map[string]string{{"message": message}}})
}

// postPublish is POST /sim/fdr/publish: JSON FlowFaults, the flows published.
func (p *PagoPA) postPublish(w http.ResponseWriter, r *http.Request) {
	var f FlowFaults
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		problem(w, http.StatusBadRequest, "flow faults: malformed JSON: "+err.Error())
		return
	}
	flows, err := p.PublishFlows(f)
	if err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	if flows == nil {
		flows = []PublishedFlow{}
	}
	jsonhttp.Write(w, http.StatusOK, flows)
}

// getFlows is GET /sim/fdr/flows: every flow published with its total.
func (p *PagoPA) getFlows(w http.ResponseWriter, _ *http.Request) {
	jsonhttp.Write(w, http.StatusOK, p.Flows())
}
