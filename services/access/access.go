// Package access says who may do what: the roles of API keys and console users, and one rule
// table mapping every route of the REST API and the web console to the roles allowed on it.
// api and console enforce it in one middleware each; a route without a rule is refused, and a
// test walks every registered route against this table.
package access

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a key or a console user may do. A key or user has exactly one.
type Role string

const (
	// Finance is the finance office (ufficio tributi, ragioneria): debts, campaigns,
	// policies, cancels and changes, plans, exports.
	Finance Role = "finance"
	// Operator reads everything, suspends and resumes plans and reads the Temporal payloads.
	Operator Role = "operator"
	// Integration is another system of the comune: it creates and reads debts, only of the
	// services of its scope, only those it created unless granted all of them.
	Integration Role = "integration"
	// Auditor reads everything, the audit trail included, and changes nothing.
	Auditor Role = "auditor"
	// Admin manages keys and users (from the command line) and reads the audit trail;
	// nothing about money or debtors.
	Admin Role = "admin"
	// PECGateway is the PEC provider's channel: it posts PEC receipts, nothing else.
	PECGateway Role = "pec-gateway"
)

// Roles are every role, in the order the documentation lists them.
var Roles = []Role{Finance, Operator, Integration, Auditor, Admin, PECGateway}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown role %q: one of %s", s, strings.Join(names, ", "))
}

// Principal is who makes a request: an API client (by its key) or a console user.
type Principal struct {
	Kind string // KindClient or KindUser
	Name string
	Role Role
	// Services is the scope of an integration key: the service codes whose debts it may
	// create and read; empty means every service.
	Services []string
	// AllDebts lets an integration key read every debt of its services, not only its own.
	AllDebts bool
}

// The kinds of principal.
const (
	KindClient = "client"
	KindUser   = "user"
)

// Actor names the principal in created_by columns and the audit trail: "client:<name>" or
// "user:<name>".
func (p Principal) Actor() string { return p.Kind + ":" + p.Name }

// MayUseService reports whether the principal may create or read debts of the service.
func (p Principal) MayUseService(service string) bool {
	return p.Role != Integration || len(p.Services) == 0 || slices.Contains(p.Services, service)
}

// Sees reports whether the principal may see a debt of the service created by createdBy
// (an Actor): an integration key only its own debts of its services, unless granted all.
func (p Principal) Sees(service, createdBy string) bool {
	if p.Role != Integration {
		return true
	}
	return p.MayUseService(service) && (p.AllDebts || createdBy == p.Actor())
}
