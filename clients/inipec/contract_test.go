package inipec_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"incasso/clients/inipec"
	"incasso/devstack/apicontract"
	"incasso/devstack/domicilesim"
	"incasso/devstack/specs"
)

func serve(t *testing.T) (*domicilesim.Registries, *apicontract.Server) {
	spec, err := specs.Read("citizen", "infocamere-inipec.yaml")
	require.NoError(t, err)
	sim := domicilesim.New("voucher", "signed-assertion")
	srv := apicontract.Serve(t, sim.Handler(), nil, apicontract.Spec{Data: spec, BasePath: domicilesim.INIPECBasePath, Auth: anyBearer})
	return sim, srv
}

// anyBearer wants a bearer token; the simulator checks which.
func anyBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	return errors.New("no bearer token")
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
