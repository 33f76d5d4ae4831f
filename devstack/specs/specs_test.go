package specs_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/devstack/specs"
)

func TestReadEveryListedFile(t *testing.T) {
	for _, name := range []string{
		"pagopa/paForNode.wsdl", "pagopa/paForNode.xsd", "pagopa/sac-common-types-1.0.xsd",
		"pagopa/gpd-debt-positions-v1.json", "pagopa/gpd-payments-receipts.json", "pagopa/fdr-organization.json",
		"sepa/pain.008.001.08.xsd", "sepa/pain.008.001.02.xsd", "sepa/pain.002.001.11.xsd", "sepa/camt.054.001.08.xsd", "sepa/camt.053.001.08.xsd",
	} {
		data, err := specs.Read(name)
		require.NoError(t, err, name)
		require.NotEmpty(t, data, name)
	}
}

func TestValidate(t *testing.T) {
	// The smallest valid camt.054.001.08: a group header and one notification.
	doc := `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>` +
		`<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-04T10:00:00</CreDtTm></GrpHdr>` +
		`<Ntfctn><Id>N1</Id><Acct><Id><IBAN>IT60X0542811101000000123456</IBAN></Id></Acct></Ntfctn>` +
		`</BkToCstmrDbtCdtNtfctn></Document>`
	specs.RequireValid(t, []byte(doc), "sepa", "camt.054.001.08.xsd") // skips, saying why, without xmllint

	bad := strings.Replace(doc, "<MsgId>M1</MsgId>", "", 1)
	err := specs.Validate([]byte(bad), "sepa", "camt.054.001.08.xsd")
	require.ErrorContains(t, err, "camt.054.001.08.xsd does not validate")
	require.ErrorContains(t, err, "MsgId", "xmllint's complaint names the missing element")

	require.ErrorContains(t, specs.Validate([]byte(doc), "sepa", "camt.053.001.99.xsd"), "schema sepa/camt.053.001.99.xsd")

	// paForNode.xsd imports the common types by relative path: its copy on disk resolves it.
	path, err := specs.SchemaFile("pagopa", "paForNode.xsd")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(path, "/pagopa/paForNode.xsd"), path)
}
