package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/pagopa"
)

func (e *testEnv) countDebts(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM debt_positions").Scan(&n))
	return n
}

func TestCreateDebtAdoptedByPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nav, err := pagopa.NewNAV(e.cfg.Creditor.Segregation, 4_000_000_000_123)
	require.NoError(t, err)
	req := validRequest("IMU-2025-OLD-1")
	req.Debtor.Email = ""
	req.Debtor.Address = &Address{Street: "Via Roma 1", PostalCode: "21013", City: "Gallarate", Province: "va"}
	req.NAV, req.GPDStatus = nav.String(), "VALID"
	d := e.mustCreateDebt(t, req)
	require.Equal(t, nav.String(), d.NoticeNumber, "the notice number of the old platform is kept")
	require.Equal(t, "VALID", d.AdoptedGPDStatus)
	require.Equal(t, &Address{Street: "Via Roma 1", PostalCode: "21013", City: "Gallarate", Province: "VA"}, d.Debtor.Address)
	require.Empty(t, d.Debtor.Email)

	resp, body := e.postDebt(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the same body again: %s", body)

	// The same notice number for another debt, as nav or as iuv: 409 naming the field, and
	// nothing stored or started.
	debts, starts := e.countDebts(t), len(e.fake.Executions())
	other := validRequest("IMU-2025-OLD-2")
	other.NAV, other.GPDStatus = nav.String(), "DRAFT"
	resp, body = e.postDebt(t, other)
	p := requireProblem(t, resp, body, http.StatusConflict)
	require.Equal(t, []FieldError{{Field: "nav", Message: "the notice number is already used by another debt"}}, p.Errors)
	other.NAV, other.IUV = "", nav.IUV()
	resp, body = e.postDebt(t, other)
	p = requireProblem(t, resp, body, http.StatusConflict)
	require.Equal(t, "iuv", p.Errors[0].Field)
	require.Equal(t, debts, e.countDebts(t))
	require.Len(t, e.fake.Executions(), starts)

	// Invalid: named field by field, nothing stored.
	bad := validRequest("IMU-2025-OLD-3")
	bad.Debtor.Email = ""
	bad.Debtor.Address = &Address{Street: "Via Roma 1", PostalCode: "210", City: "", Province: "Varese"}
	wrong := "00"
	if nav.String()[16:] == wrong {
		wrong = "01"
	}
	bad.NAV, bad.GPDStatus = nav.String()[:16]+wrong, "PAID"
	resp, body = e.postDebt(t, bad)
	p = requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"debtor.address.postalCode", "debtor.address.city", "debtor.address.province", "nav", "gpdStatus"}, fieldsOf(p.Errors))
	require.NotContains(t, string(body), nav.String()[3:16])
	require.Equal(t, debts, e.countDebts(t))

	var got DebtResponse
	resp, body = e.getDebt(t, req.IUPD)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, d.Debtor, got.Debtor)
}
