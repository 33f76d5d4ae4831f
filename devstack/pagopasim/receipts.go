package pagopasim

import (
	"net/http"

	"incasso/domain/pagopa"
)

// getReceipt is the receipts API: the XML of the paSendRTV2 request of the last receipt of
// the notice iuv of org, delivered or not.
func (p *PagoPA) getReceipt(w http.ResponseWriter, r *http.Request) {
	org, iuv := r.PathValue("org"), r.PathValue("iuv")
	var (
		req   pagopa.SendRTV2Request
		found bool
	)
	p.mu.Lock()
	for _, rc := range p.receipts {
		if rc.IDPA == org && rc.Receipt.CreditorReferenceID == iuv {
			req, found = rc, true
		}
	}
	p.mu.Unlock()
	if !found {
		problem(w, http.StatusNotFound, "No receipt found")
		return
	}
	body, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, req)
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(body)
}
