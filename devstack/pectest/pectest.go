// Package pectest makes PEC receipts for tests as a PEC provider sends them: an S/MIME
// multipart/signed message whose signed part carries daticert.xml, signed with a certificate
// of devstack/testcerts.
package pectest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/stretchr/testify/require"

	"incasso/devstack/testcerts"
)

// Receipt says what the receipt says.
type Receipt struct {
	Kind      string    // daticert's tipo, e.g. avvenuta-consegna
	MessageID string    // the message it is about, without <>
	At        time.Time // when the provider did it
}

// Signed is the receipt r signed by signer, as its raw message. tamper, if not nil, changes the
// signed part after it was signed.
func Signed(t testing.TB, signer testcerts.Pair, r Receipt, tamper func([]byte) []byte) []byte {
	t.Helper()
	content := []byte(SignedPart(r))
	sd, err := pkcs7.NewSignedData(content)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(signer.TLS.Certificate[0])
	require.NoError(t, err)
	require.NoError(t, sd.AddSigner(cert, signer.TLS.PrivateKey, pkcs7.SignerInfoConfig{}))
	sd.Detach()
	der, err := sd.Finish()
	require.NoError(t, err)
	if tamper != nil {
		content = tamper(content)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: posta-certificata@pec.provider.example\r\nTo: protocollo@pec.comune.example.it\r\n"+
		"Subject: CONSEGNA: avviso\r\nDate: %s\r\nX-Ricevuta: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig-b\"\r\n\r\n"+
		"This is an S/MIME signed message\r\n--sig-b\r\n", r.At.Format(time.RFC1123Z), r.Kind)
	b.Write(content)
	b.WriteString("\r\n--sig-b\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--sig-b--\r\n")
	return b.Bytes()
}

// SignedPart is the MIME part a provider signs: a text and daticert.xml.
func SignedPart(r Receipt) string {
	zone := r.At.Format("-0700")
	daticert := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE postacert SYSTEM "Postacert.dtd">
<postacert tipo="` + r.Kind + `" errore="nessuno">
  <intestazione>
    <mittente>protocollo@pec.comune.example.it</mittente>
    <destinatari tipo="certificato">destinatario@pec.example.it</destinatari>
    <risposte>protocollo@pec.comune.example.it</risposte>
    <oggetto>Sollecito di pagamento</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Gestore PEC di prova</gestore-emittente>
    <data zona="` + zone + `">
      <giorno>` + r.At.Format("02/01/2006") + `</giorno>
      <ora>` + r.At.Format("15:04:05") + `</ora>
    </data>
    <identificativo>opec0001.20261206101112.00001@pec.provider.example</identificativo>
    <msgid>&lt;` + r.MessageID + `&gt;</msgid>
    <ricevuta tipo="completa"/>
    <consegna>destinatario@pec.example.it</consegna>
  </dati>
</postacert>
`
	return strings.Join([]string{
		"Content-Type: multipart/mixed; boundary=\"mix-b\"",
		"",
		"--mix-b",
		"Content-Type: text/plain; charset=UTF-8",
		"",
		"Ricevuta di avvenuta consegna.",
		"--mix-b",
		"Content-Type: application/xml; name=\"daticert.xml\"",
		"Content-Disposition: inline; filename=\"daticert.xml\"",
		"Content-Transfer-Encoding: base64",
		"",
		base64.StdEncoding.EncodeToString([]byte(daticert)),
		"--mix-b--",
		"",
	}, "\r\n")
}
