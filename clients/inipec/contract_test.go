package inipec_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/inipec"
	"incasso/devstack/contracttest"
	"incasso/devstack/domicilesim"
)

func serve(t *testing.T) (*domicilesim.Registries, *contracttest.Server) {
	sim := domicilesim.New("voucher", "signed-assertion")
	// Any bearer token: the simulator checks which.
	srv := contracttest.ServeSpecs(t, sim.Handler(), nil,
		contracttest.Spec{Dir: "citizen", Name: "infocamere-inipec.yaml", BasePath: domicilesim.INIPECBasePath, Auth: contracttest.Bearer("")})
	return sim, srv
}

func client(url, assertion string) *inipec.Client {
	return inipec.New(inipec.Config{BaseURL: url + domicilesim.INIPECBasePath, ClientID: "incasso", Assertion: assertion,
		Scope: "pec", Timeout: 5 * time.Second})
}

// TestContract looks up a company with a PEC and one without: a token, the list requested, a
// poll that finds it not ready, then the list.
func TestContract(t *testing.T) {
	t.Parallel()
	sim, srv := serve(t)
	sim.PendingPolls = 2
	sim.Set("01234567890", "amministrazione@pec.ditta.example.it")
	c := client(srv.URL, "signed-assertion")
	ctx := context.Background()

	a, err := c.Lookup(ctx, "01234567890", 10*time.Millisecond)
	require.NoError(t, err)
	require.True(t, a.Found)
	require.Equal(t, "amministrazione@pec.ditta.example.it", a.Address)
	require.Contains(t, string(a.Raw), `"elencoPec"`)

	id, err := c.Request(ctx, "09876543210")
	require.NoError(t, err)
	_, err = c.Poll(ctx, id, "09876543210")
	require.ErrorIs(t, err, inipec.ErrPending)
	_, err = c.Poll(ctx, id, "09876543210")
	require.ErrorIs(t, err, inipec.ErrPending)
	a, err = c.Poll(ctx, id, "09876543210")
	require.NoError(t, err)
	require.False(t, a.Found)
	require.Empty(t, srv.Mismatches())
}

// TestContractCatchesMismatches: a wrong assertion gets no token, and a call without the
// scope header breaks the spec.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	_, srv := serve(t)
	_, err := client(srv.URL, "wrong").Request(context.Background(), "01234567890")
	require.ErrorIs(t, err, inipec.ErrRejected)
	require.NotContains(t, err.Error(), "01234567890")

	noScope := inipec.New(inipec.Config{BaseURL: srv.URL + domicilesim.INIPECBasePath, ClientID: "incasso", Assertion: "signed-assertion", Timeout: 5 * time.Second})
	_, err = noScope.Request(context.Background(), "01234567890")
	require.ErrorIs(t, err, inipec.ErrRejected)
	require.Len(t, srv.Mismatches(), 1)
	require.Contains(t, srv.Mismatches()[0], "scope")
}
