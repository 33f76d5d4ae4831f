package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
)

// Citizen is where incasso finds the debtors' digital domiciles and notifies acts with legal
// weight (issue 17). Each service is off while its URL is empty: no domicile is looked up
// (the PEC of the debtor's file is used) and the accertamento goes by PEC or registered post.
type Citizen struct {
	INADURL   string // INCASSO_INAD_URL, e.g. https://api.inad.gov.it/rest/inad/v1/domiciliodigitale
	INADToken string // INCASSO_INAD_TOKEN, the PDND voucher
	// INI-PEC (InfoCamere) for companies: INCASSO_INIPEC_URL, _CLIENT_ID, _ASSERTION (the signed
	// client assertion exchanged for a token), _SCOPE.
	INIPECURL, INIPECClientID, INIPECAssertion, INIPECScope string
	SENDURL                                                 string // INCASSO_SEND_URL, SEND's B2B API for PAs
	SENDKey                                                 string // INCASSO_SEND_API_KEY
	// SENDTaxonomy is the taxonomy code of the acts notified for a service that names none
	// (INCASSO_SEND_TAXONOMY; by default 010201P, "Notifiche Riscossione Tributi con
	// pagamento" in SEND's table of the acts of a comune).
	SENDTaxonomy string
}

// An accertamento notified by SEND carries its pagoPA payment: its code in SEND's taxonomy
// (two digits of the kind of entity, four of the procedure) ends in P, "con pagamento".
var sendTaxonomyPattern = regexp.MustCompile(`^[0-9]{6}P$`)

const sendTaxonomyRule = "want a code of SEND's taxonomy for acts with a payment, six digits and P, e.g. 010201P"

// citizenFromEnv reads the Citizen settings.
func citizenFromEnv() (Citizen, error) {
	c := Citizen{
		INADURL: os.Getenv("INCASSO_INAD_URL"), INADToken: os.Getenv("INCASSO_INAD_TOKEN"),
		INIPECURL: os.Getenv("INCASSO_INIPEC_URL"), INIPECClientID: os.Getenv("INCASSO_INIPEC_CLIENT_ID"),
		INIPECAssertion: os.Getenv("INCASSO_INIPEC_ASSERTION"), INIPECScope: env("INCASSO_INIPEC_SCOPE", "pec"),
		SENDURL: os.Getenv("INCASSO_SEND_URL"), SENDKey: os.Getenv("INCASSO_SEND_API_KEY"),
		SENDTaxonomy: env("INCASSO_SEND_TAXONOMY", "010201P"),
	}
	var errs []error
	for _, v := range []struct{ name, url, secretName, secret string }{
		{"INCASSO_INAD_URL", c.INADURL, "INCASSO_INAD_TOKEN", c.INADToken},
		{"INCASSO_INIPEC_URL", c.INIPECURL, "INCASSO_INIPEC_ASSERTION", c.INIPECAssertion},
		{"INCASSO_SEND_URL", c.SENDURL, "INCASSO_SEND_API_KEY", c.SENDKey},
	} {
		if v.url == "" {
			continue
		}
		if u, err := url.Parse(v.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an http(s) URL", v.name))
		}
		if v.secret == "" {
			errs = append(errs, fmt.Errorf("%s: required with %s", v.secretName, v.name))
		}
	}
	if !sendTaxonomyPattern.MatchString(c.SENDTaxonomy) {
		errs = append(errs, errors.New("INCASSO_SEND_TAXONOMY: "+sendTaxonomyRule))
	}
	return c, errors.Join(errs...)
}
