package access

// Rule is who may call one route.
type Rule struct {
	// Open routes need no role: health checks, the Nodo's endpoint (its own secret), the
	// console's login and static files, and the Echo routes that hand over to the console,
	// which applies this table to its own pages.
	Open bool
	// Roles may call it.
	Roles []Role
	// PersonalData marks a read of a person's data, which the audit trail records like every
	// request that changes something.
	PersonalData bool
}

// Allows reports whether the role may call the route.
func (r Rule) Allows(role Role) bool {
	if r.Open {
		return true
	}
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}

var (
	readers  = []Role{Finance, Operator, Auditor}
	anyRole  = Roles
	open     = Rule{Open: true}
	finance  = Rule{Roles: []Role{Finance}}
	readOnly = Rule{Roles: readers}
	personal = Rule{Roles: readers, PersonalData: true}
)

func with(r Rule, more ...Role) Rule {
	r.Roles = append(append([]Role(nil), r.Roles...), more...)
	return r
}

// rules maps each route to who may call it, one line per route. The key is the method and
// the route as registered: Echo's pattern for the API ("GET /v1/debts/:iupd"), the ServeMux
// pattern for the console's pages ("GET /console/campagne/{id}"). A route with no line here
// is refused, and TestEveryRouteHasARule fails.
var rules = map[string]Rule{
	"GET /healthz":                  open,
	"GET /readyz":                   open,
	"POST /pagopa/paForNode":        open,     // the Nodo's secret, address and certificate: api/node.go
	"POST /codec/encode":            readOnly, // the payloads hold nothing these roles cannot read through /v1
	"POST /codec/decode":            readOnly,
	"OPTIONS /codec/encode":         open, // the CORS preflight, answered before authentication
	"OPTIONS /codec/decode":         open,
	"GET /console":                  open, // a redirect to /console/
	"GET /v1/openapi.json":          open, // the contract, and its docs page: public
	"GET /docs":                     open,
	"GET /docs/redoc.standalone.js": open,
	"* /console/*":                  open, // the console checks its own pages below

	"* /v1":                                           open, // the paths no route has: Echo's 404, after authentication
	"* /v1/*":                                         open,
	"POST /v1/debts":                                  with(finance, Integration),
	"GET /v1/debts":                                   personal,
	"POST /v1/debts/search":                           personal,
	"GET /v1/exports/debts.csv":                       personal,
	"POST /v1/exports/debts.csv":                      personal,
	"GET /v1/exports/debts.jsonl":                     personal,
	"POST /v1/exports/debts.jsonl":                    personal,
	"POST /v1/debtors/file":                           personal,
	"GET /v1/debts/:iupd":                             with(personal, Integration),
	"GET /v1/debts/:iupd/notice.pdf":                  with(personal, Integration),
	"POST /v1/debts/:iupd/cancel":                     finance,
	"POST /v1/debts/:iupd/change":                     finance,
	"POST /v1/debts/:iupd/upgrade-policy":             finance,
	"POST /v1/debts/:iupd/instalment-plan":            finance,
	"GET /v1/debts/:iupd/instalment-plan":             personal,
	"POST /v1/debts/:iupd/instalment-plan/suspend":    with(finance, Operator),
	"POST /v1/debts/:iupd/instalment-plan/resume":     with(finance, Operator),
	"POST /v1/debts/:iupd/instalment-plan/mandate":    finance,
	"GET /v1/policies/:service":                       readOnly,
	"PUT /v1/policies/:service":                       finance,
	"GET /v1/policies/:service/versions/:version":     readOnly,
	"POST /v1/enforcement/exports":                    finance,
	"GET /v1/enforcement/exports":                     readOnly,
	"GET /v1/enforcement/exports/:id":                 {Roles: []Role{Finance, Auditor}, PersonalData: true}, // the file names the debtors
	"POST /v1/campaigns":                              finance,
	"GET /v1/campaigns":                               readOnly,
	"GET /v1/campaigns/:id":                           readOnly,
	"POST /v1/campaigns/:id/launch":                   finance,
	"POST /v1/campaigns/:id/pause":                    finance,
	"POST /v1/campaigns/:id/resume":                   finance,
	"POST /v1/campaigns/:id/cancel":                   finance,
	"POST /v1/campaigns/:id/withdraw":                 finance,
	"GET /v1/receipts/flagged":                        personal,
	"POST /v1/receipts/flagged/:receiptId/resolve":    finance,
	"GET /v1/reconciliation/differences":              readOnly, // codes, amounts, IUVs: no one's name
	"POST /v1/reconciliation/differences/:id/resolve": finance,
	"POST /v1/reconciliation/fdr-runs":                finance,
	"GET /v1/reconciliation/accounting.csv":           readOnly, // totals by service, taxonomy and entity: no one's data
	"GET /v1/reconciliation/open.csv":                 readOnly, // reason codes, amounts and incasso's ids
	"GET /v1/communications":                          personal,
	"POST /v1/communications/search":                  personal,
	"GET /v1/communications/:id":                      personal,
	"GET /v1/communications/:id/receipts":             personal,
	"POST /v1/communications/:id/receipts":            {Roles: []Role{PECGateway}},
	"GET /v1/communications/:id/receipts/:rid":        personal,
	"POST /v1/communications/:id/return-card":         with(finance, Operator), // the back office enters the card of a registered letter
	"POST /v1/communications/:id/posted":              with(finance, Operator), // the print room marks a letter posted
	"GET /v1/audit":                                   {Roles: []Role{Auditor, Admin}, PersonalData: true},
	// The feed and the webhooks carry ids, amounts and states, no personal data; an
	// integration key sees its own debts' events and manages its own endpoints.
	"GET /v1/events":                                    with(readOnly, Integration),
	"POST /v1/webhooks":                                 with(finance, Integration),
	"GET /v1/webhooks":                                  with(readOnly, Integration),
	"GET /v1/webhooks/:id":                              with(readOnly, Integration),
	"DELETE /v1/webhooks/:id":                           with(finance, Integration),
	"POST /v1/webhooks/:id/rotate-secret":               with(finance, Integration),
	"POST /v1/webhooks/:id/enable":                      with(finance, Operator, Integration),
	"GET /v1/webhooks/:id/deliveries":                   with(readOnly, Integration),
	"POST /v1/webhooks/:id/deliveries/:delivery/replay": with(finance, Operator, Integration),

	"GET /console/static/":                          open,
	"GET /console/{$}":                              open, // a redirect to the campaigns, which check
	"GET /console/login":                            open,
	"POST /console/login":                           open,
	"GET /console/logout":                           open,
	"POST /console/logout":                          open,
	"GET /console/campagne":                         readOnly,
	"GET /console/campagne/nuova":                   finance,
	"POST /console/campagne/nuova":                  finance,
	"GET /console/campagne/{id}":                    personal,
	"POST /console/campagne/{id}/{action}":          finance,
	"GET /console/posizioni/{iupd}":                 personal,
	"POST /console/cerca":                           personal,
	"GET /console/riconciliazione":                  readOnly, // totals, reason codes and incasso's ids
	"POST /console/riconciliazione/differenze/{id}": finance,
	"GET /console/posta":                            personal, // the letters' subjects and debts
	"POST /console/posta/{id}/spedita":              with(finance, Operator),
	"/console/":                                     {Roles: anyRole}, // the page not found of a session
}

// RuleOf returns the rule of an Echo route, by method and pattern as registered ("GET",
// "/v1/debts/:iupd"; a line "* pattern" is every method's); false when it has none.
func RuleOf(method, pattern string) (Rule, bool) {
	if r, ok := rules[method+" "+pattern]; ok {
		return r, true
	}
	r, ok := rules["* "+pattern]
	return r, ok
}

// PageRule returns the rule of a console page by its ServeMux pattern ("GET
// /console/campagne/{id}"); false when it has none.
func PageRule(pattern string) (Rule, bool) {
	r, ok := rules[pattern]
	return r, ok
}

// Allowed reports whether role may call the route; a route without a rule is refused.
func Allowed(role Role, method, pattern string) bool {
	r, ok := RuleOf(method, pattern)
	return ok && r.Allows(role)
}
