// Package sim simulates the outside systems incasso talks to, on their real wire formats, for
// `incasso-dev` and the end-to-end tests: pagoPA's GPD services (debt positions and payments
// receipts), a PSP paying a notice through the Nodo, which delivers the receipt to the EC
// with paSendRTV2, and the reporting flows (FdR) the PSPs publish the next business day. Tests script pagoPA's misbehaviour: faults and latency of GPD, receipts
// delivered late, twice or never, for notices the EC does not know.
package pagopasim

import (
	"net/http"
	"sync"
	"time"

	"incasso/clients/gpd"
	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/pagopa"
)

// Where the simulated GPD services are mounted.
const (
	GPDBasePath      = "/gpd/debt-positions-service/v1"
	ReceiptsBasePath = "/gpd/payments-receipts-service/v1"
)

// PagoPA is the simulated platform. It is safe for concurrent use.
type PagoPA struct {
	// SubscriptionKey is the key GPD callers must present.
	SubscriptionKey string
	// ECEndpoint is the EC's paForNode SOAP URL, and NodeKey the secret the Nodo sends it.
	ECEndpoint, NodeKey string
	// Broker and Station identify the EC's station in paSendRTV2 headers.
	Broker, Station string

	mu          sync.Mutex
	positions   map[string]*gpd.Position // by organization/iupd
	notices     map[string]string        // organization/NAV -> organization/iupd
	paidOptions map[string]bool          // organization/NAV of partial options marked paid
	receipts    []pagopa.SendRTV2Request // every receipt made, oldest first
	faults      Faults
	flows       []*simFlow      // every flow published, every revision, oldest first
	flowsOf     map[string]bool // day, and day/organization/PSP, of the flows published
	flowSeq     int             // the progressive of the last flow id
	client      http.Client
}

// NewPagoPA returns an empty simulator.
func NewPagoPA(subscriptionKey, ecEndpoint, nodeKey, broker, station string) *PagoPA {
	return &PagoPA{
		SubscriptionKey: subscriptionKey, ECEndpoint: ecEndpoint, NodeKey: nodeKey,
		Broker: broker, Station: station,
		positions: map[string]*gpd.Position{}, notices: map[string]string{}, paidOptions: map[string]bool{},
		client: http.Client{Timeout: 30 * time.Second},
	}
}

// Handler serves the GPD subset, the receipts API and the /sim/ controls:
//
//	POST   GPDBasePath/organizations/{org}/debtpositions[?toPublish=true]
//	GET    GPDBasePath/organizations/{org}/debtpositions/{iupd}
//	PUT    GPDBasePath/organizations/{org}/debtpositions/{iupd}[?toPublish=true]
//	POST   GPDBasePath/organizations/{org}/debtpositions/{iupd}/invalidate
//	POST   GPDBasePath/organizations/{org}/paymentoptions/paids/{nav}
//	GET    ReceiptsBasePath/payments/{org}/receipts/{iuv}
//	GET    FdRBasePath/organizations/{org}/fdrs[?publishedGt=&page=&size=]
//	GET    FdRBasePath/organizations/{org}/fdrs/{fdr}/revisions/{rev}/psps/{psp}[/payments]
//	POST   /sim/pay/{nav}   a PSP pays the notice (see Pay and the query parameters of pay)
//	POST   /sim/fdr/publish JSON FlowFaults: the flows of a day's payments, published now
//	GET    /sim/fdr/flows   every flow published, with its total and remittance information
//	POST   /sim/faults      JSON Faults: GPD misbehaves from now on
//	DELETE /sim/faults      GPD behaves again
func (p *PagoPA) Handler() http.Handler {
	mux := http.NewServeMux()
	org := GPDBasePath + "/organizations/{org}"
	mux.HandleFunc("POST "+org+"/debtpositions", p.gpd(p.createPosition))
	mux.HandleFunc("GET "+org+"/debtpositions/{iupd}", p.gpd(p.getPosition))
	mux.HandleFunc("PUT "+org+"/debtpositions/{iupd}", p.gpd(p.updatePosition))
	mux.HandleFunc("POST "+org+"/debtpositions/{iupd}/invalidate", p.gpd(p.invalidatePosition))
	mux.HandleFunc("POST "+org+"/paymentoptions/paids/{nav}", p.gpd(p.markPaidOutside))
	mux.HandleFunc("GET "+ReceiptsBasePath+"/payments/{org}/receipts/{iuv}", p.gpd(p.getReceipt))
	fdrFlow := FdRBasePath + "/organizations/{org}/fdrs/{fdr}/revisions/{rev}/psps/{psp}"
	mux.HandleFunc("GET "+FdRBasePath+"/organizations/{org}/fdrs", p.gpd(p.listFlows))
	mux.HandleFunc("GET "+fdrFlow, p.gpd(p.getFlow))
	mux.HandleFunc("GET "+fdrFlow+"/payments", p.gpd(p.getPayments))
	mux.HandleFunc("POST /sim/pay/{nav}", p.pay)
	mux.HandleFunc("POST /sim/fdr/publish", p.postPublish)
	mux.HandleFunc("GET /sim/fdr/flows", p.getFlows)
	mux.HandleFunc("POST /sim/faults", p.postFaults)
	mux.HandleFunc("DELETE /sim/faults", p.deleteFaults)
	return mux
}

// gpd serves a GPD request as pagoPA's API gateway would: after the injected latency and
// faults, it checks the subscription key.
func (p *PagoPA) gpd(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.misbehave(w, r) {
			return
		}
		if r.Header.Get("Ocp-Apim-Subscription-Key") != p.SubscriptionKey {
			problem(w, http.StatusUnauthorized, "Access denied due to invalid subscription key")
			return
		}
		h(w, r)
	}
}

// problem answers a ProblemJson, with the media type GPD declares for it.
func problem(w http.ResponseWriter, status int, title string) {
	jsonhttp.Write(w, status, map[string]any{"status": status, "title": title})
}
