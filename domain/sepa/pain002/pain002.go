// Package pain002 reads the payment status reports (ISO 20022 pain.002) that the bank
// returns for a collection file, and writes them for the bank simulator.
//
// A report gives statuses at three levels: the whole file (the group), a payment information
// and a transaction, matched on OrgnlMsgId, OrgnlPmtInfId and OrgnlEndToEndId; a reason code
// (StsRsnInf/Rsn/Cd) tells why, or the bank's own code (Rsn/Prtry), which a Report holds as
// Proprietary + the code so that no rule for an ISO code applies to it. Banks usually list
// only the transactions that were not accepted: StatusOf tells the status of any transaction
// of the file.
//
// Parse reads pain.002.001.03 to .001.12 by local element names (the elements incasso uses
// have kept their names across versions) and rejects, with an *Error naming the element, a
// report that is not one (root, namespace, MsgId, OrgnlMsgId, OrgnlMsgNmId, CreDtTm), that
// has status codes or reason codes it does not know, a rejected transaction without a
// reason, or the same payment information or EndToEndId twice. Write writes pain.002.001.10
// and checks the same rules, so what it writes Parse reads back identically.
package pain002

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"incasso/domain/sepa/internal/isoxml"
)

// The status codes of ISO 20022 (ExternalPaymentGroupStatus1Code and
// ExternalPaymentTransactionStatus1Code) that a report may give.
const (
	ACCP = "ACCP" // accepted customer profile: technical and profile checks passed
	ACSC = "ACSC" // accepted, settlement completed
	ACSP = "ACSP" // accepted, settlement in process
	ACTC = "ACTC" // accepted technical validation
	ACWC = "ACWC" // accepted with change
	PART = "PART" // partially accepted: of a group or a payment information, never a transaction
	PDNG = "PDNG" // pending
	RCVD = "RCVD" // received
	RJCT = "RJCT" // rejected
)

var statuses = []string{ACCP, ACSC, ACSP, ACTC, ACWC, PART, PDNG, RCVD, RJCT}

// Proprietary starts a reason that the bank gave as a proprietary code (Rsn/Prtry, up to 35
// characters) rather than an ISO code: "PRTRY:" + the code, e.g. "PRTRY:CBI-0123". No ISO
// code has this form, so a reason-code table keyed by ISO codes never matches it.
const Proprietary = "PRTRY:"

// Report is a payment status report.
type Report struct {
	MsgID           string
	Created         time.Time
	OriginalMsgID   string // MsgId of the collection file reported on
	OriginalMsgName string // its message name, e.g. "pain.008.001.08"
	GroupStatus     string // status of the whole file; may be ""
	GroupReason     string // reason code of GroupStatus, or ""
	PaymentInfos    []PaymentInfoStatus
}

// PaymentInfoStatus is the status of a payment information and of those of its transactions
// that the bank lists.
type PaymentInfoStatus struct {
	OriginalPmtInfID string
	Status           string // may be ""
	Reason           string // reason code of Status, or ""
	Transactions     []TransactionStatus
}

// TransactionStatus is the status of one transaction. A rejected transaction has a reason.
type TransactionStatus struct {
	OriginalEndToEndID string
	Status             string
	Reason             string
}

// StatusOf returns the status, and the reason code if any, that r gives to the transaction
// endToEndID of the payment information pmtInfID (r being the report on the transaction's
// file: the caller matches OriginalMsgID):
//
//   - a transaction listed has the status and reason listed, except that in a rejected (RJCT)
//     group it is RJCT whatever is listed, with the group's reason unless it has its own;
//   - else its payment information, if listed with a status other than PART, gives its own;
//   - else the group's status, except that a transaction not listed in a partially accepted
//     (PART) group is accepted: ACCP and no reason;
//   - "" and "" when the report says nothing that applies (no group status).
//
// It scans the payment information's listed transactions: banks list the rejected ones only.
func (r Report) StatusOf(pmtInfID, endToEndID string) (status, reason string) {
	for _, p := range r.PaymentInfos {
		if p.OriginalPmtInfID != pmtInfID {
			continue
		}
		for _, t := range p.Transactions {
			if t.OriginalEndToEndID == endToEndID {
				return r.rejectedBy(t.Status, t.Reason)
			}
		}
		if p.Status != "" && p.Status != PART {
			return r.rejectedBy(p.Status, p.Reason)
		}
		break
	}
	if r.GroupStatus == PART {
		return ACCP, ""
	}
	return r.GroupStatus, r.GroupReason
}

// rejectedBy is a status and reason listed for a transaction or a payment information,
// under the group's: a rejected group rejects everything.
func (r Report) rejectedBy(status, reason string) (string, string) {
	switch {
	case r.GroupStatus != RJCT:
		return status, reason
	case status == RJCT && reason != "":
		return RJCT, reason
	}
	return RJCT, r.GroupReason
}

// validate checks the rules that Parse and Write enforce.
func (r Report) validate() error {
	if err := checkID("GrpHdr/MsgId", r.MsgID); err != nil {
		return err
	}
	if !isoxml.ValidTime(r.Created) {
		return &Error{"GrpHdr/CreDtTm", "is not a time of the years 1900 to 9999"}
	}
	if err := checkID("OrgnlGrpInfAndSts/OrgnlMsgId", r.OriginalMsgID); err != nil {
		return err
	}
	if err := checkID("OrgnlGrpInfAndSts/OrgnlMsgNmId", r.OriginalMsgName); err != nil {
		return err
	}
	if err := checkStatus("OrgnlGrpInfAndSts", "GrpSts", r.GroupStatus, r.GroupReason, false); err != nil {
		return err
	}
	pmts, txs := make(map[string]bool), make(map[string]bool)
	for i, p := range r.PaymentInfos {
		path := step("OrgnlPmtInfAndSts", "OrgnlPmtInfId", p.OriginalPmtInfID, i)
		if err := checkID(path+"/OrgnlPmtInfId", p.OriginalPmtInfID); err != nil {
			return err
		}
		if pmts[p.OriginalPmtInfID] {
			return &Error{path, "is listed twice"}
		}
		pmts[p.OriginalPmtInfID] = true
		if err := checkStatus(path, "PmtInfSts", p.Status, p.Reason, false); err != nil {
			return err
		}
		for j, t := range p.Transactions {
			path := path + "/" + step("TxInfAndSts", "OrgnlEndToEndId", t.OriginalEndToEndID, j)
			if err := checkID(path+"/OrgnlEndToEndId", t.OriginalEndToEndID); err != nil {
				return err
			}
			if txs[t.OriginalEndToEndID] {
				return &Error{path, "is listed twice"}
			}
			txs[t.OriginalEndToEndID] = true
			if err := checkStatus(path, "TxSts", t.Status, t.Reason, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// step names the i-th element elem by its identifier key, or by its position without one.
func step(elem, key, id string, i int) string {
	if id == "" {
		return fmt.Sprintf("%s[%d]", elem, i+1)
	}
	return fmt.Sprintf("%s[%s=%q]", elem, key, id)
}

// checkID checks the identifier s of the element at path (see isoxml.IDProblem).
func checkID(path, s string) error {
	if problem := isoxml.IDProblem(s); problem != "" {
		return &Error{path, problem}
	}
	return nil
}

// checkStatus checks the status elem of the element at path and its reason: a known code, a
// reason (4 capital letters or digits, or Proprietary and 1 to 35 characters) only with a
// status, and for a transaction (tx) a status that is not PART and a reason when rejected.
func checkStatus(path, elem, status, reason string, tx bool) error {
	switch {
	case status == "" && tx:
		return &Error{path + "/" + elem, "is missing"}
	case status != "" && !slices.Contains(statuses, status):
		return &Error{path + "/" + elem, fmt.Sprintf("%q is not a status code (%s)", status, strings.Join(statuses, ", "))}
	case status == PART && tx:
		return &Error{path + "/" + elem, "is PART, a status of groups and payment informations, not of transactions"}
	case reason != "" && status == "":
		return &Error{path + "/StsRsnInf/Rsn/Cd", "gives a reason without a status (" + elem + ")"}
	case strings.HasPrefix(reason, Proprietary):
		if problem := isoxml.IDProblem(reason[len(Proprietary):]); problem != "" {
			return &Error{path + "/StsRsnInf/Rsn/Prtry", problem} // not echoed: the bank's free text
		}
	case reason != "" && !isoxml.ReasonCode(reason):
		return &Error{path + "/StsRsnInf/Rsn/Cd", fmt.Sprintf("%q is not a reason code of 4 capital letters or digits", reason)}
	case status == RJCT && reason == "" && tx:
		return &Error{path + "/StsRsnInf/Rsn/Cd", "is missing: a rejected transaction has a reason code"}
	}
	return nil
}
