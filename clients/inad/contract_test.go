package inad_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/inad"
	"incasso/devstack/contracttest"
	"incasso/devstack/domicilesim"
)

const token = "pdnd-voucher"

func serve(t *testing.T) (*domicilesim.Registries, *contracttest.Server) {
	sim := domicilesim.New(token, "assertion")
	srv := contracttest.ServeSpecs(t, sim.Handler(), nil,
		contracttest.Spec{Dir: "citizen", Name: "inad-extraction.yaml", BasePath: domicilesim.INADBasePath, Auth: contracttest.Bearer(token)})
	return sim, srv
}

// TestContract looks up a citizen with a domicile and one without, through the spec's validator.
func TestContract(t *testing.T) {
	t.Parallel()
	sim, srv := serve(t)
	sim.Set("RSSMRA80A01H501U", "mario.rossi@pec.example.it")
	c := inad.New(srv.URL+domicilesim.INADBasePath, token, 5*time.Second)
	ctx := context.Background()

	a, err := c.Extract(ctx, "RSSMRA80A01H501U", "ACC-42")
	require.NoError(t, err)
	require.True(t, a.Found)
	require.Equal(t, "mario.rossi@pec.example.it", a.Address)
	require.Contains(t, string(a.Raw), `"codiceFiscale":"RSSMRA80A01H501U"`, "the exact answer is kept as proof")

	a, err = c.Extract(ctx, "VRDLGU75B02F205X", "ACC-43")
	require.NoError(t, err)
	require.False(t, a.Found)
	require.Empty(t, a.Address)
	require.Contains(t, string(a.Raw), "NOT_FOUND")
	require.Empty(t, srv.Mismatches())
}

// TestContractCatchesMismatches proves the validator is not vacuous, and that an error names no
// fiscal code.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	_, srv := serve(t)
	_, err := inad.New(srv.URL+domicilesim.INADBasePath, "wrong", 5*time.Second).Extract(context.Background(), "RSSMRA80A01H501U", "ACC-1")
	require.ErrorIs(t, err, inad.ErrRejected)
	require.NotContains(t, err.Error(), "RSSMRA80A01H501U")
	require.Len(t, srv.Mismatches(), 1)

	_, err = inad.New(srv.URL+domicilesim.INADBasePath, token, 5*time.Second).Extract(context.Background(), "not-a-fiscal-code", "ACC-1")
	require.ErrorIs(t, err, inad.ErrRejected)
	require.Len(t, srv.Mismatches(), 2)
	require.Contains(t, srv.Mismatches()[1], "codice_fiscale")
}
