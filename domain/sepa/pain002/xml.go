package pain002

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/sepa/internal/isoxml"
)

// MaxSize is the largest report Parse reads, 64 MiB: a report listing every transaction of
// a file of 100,000 takes about 25 MB. Callers reading from the network should stop there.
const MaxSize = isoxml.MaxSize

// report is the message Parse reads.
var report = isoxml.Message{Name: "pain.002", Noun: "report", First: 3, Last: 12}

// Parse reads a status report of pain.002.001.03 to .001.12 and checks it (see the package
// documentation). Leading and trailing white space of values is ignored; of several
// StsRsnInf, the first with a Rsn/Cd gives the reason, else the first with a Rsn/Prtry.
func Parse(data []byte) (Report, error) {
	var doc xDocument
	if err := report.Decode(data, &doc); err != nil {
		return Report{}, fmt.Errorf("pain002: %w", err)
	}
	x := doc.Rpt
	switch {
	case x == nil:
		return Report{}, &Error{"Document/CstmrPmtStsRpt", "is missing"}
	case x.Grp == nil:
		return Report{}, &Error{"OrgnlGrpInfAndSts", "is missing"}
	}
	created, err := isoxml.ParseDateTime(trim(x.CreDtTm))
	if err != nil {
		return Report{}, &Error{"GrpHdr/CreDtTm", "is not an ISO date and time"}
	}
	r := Report{
		MsgID: trim(x.MsgId), Created: created,
		OriginalMsgID: trim(x.Grp.OrgnlMsgId), OriginalMsgName: trim(x.Grp.OrgnlMsgNmId),
		GroupStatus: trim(x.Grp.GrpSts), GroupReason: reason(x.Grp.StsRsnInf),
	}
	for _, xp := range x.PmtInfs {
		p := PaymentInfoStatus{OriginalPmtInfID: trim(xp.OrgnlPmtInfId), Status: trim(xp.PmtInfSts), Reason: reason(xp.StsRsnInf)}
		for _, xt := range xp.TxInfAndSts {
			p.Transactions = append(p.Transactions, TransactionStatus{
				OriginalEndToEndID: trim(xt.OrgnlEndToEndId), Status: trim(xt.TxSts), Reason: reason(xt.StsRsnInf),
			})
		}
		r.PaymentInfos = append(r.PaymentInfos, p)
	}
	if err := r.validate(); err != nil {
		return Report{}, err
	}
	return r, nil
}

// Write checks r and writes it as pain.002.001.10, CreDtTm to the second in Rome time.
func Write(w io.Writer, r Report) error {
	if err := r.validate(); err != nil {
		return err
	}
	x := &xReport{
		MsgId: r.MsgID, CreDtTm: r.Created.In(date.Rome).Format(time.RFC3339),
		Grp: &xGroup{
			OrgnlMsgId: r.OriginalMsgID, OrgnlMsgNmId: r.OriginalMsgName,
			GrpSts: r.GroupStatus, StsRsnInf: reasons(r.GroupReason),
		},
	}
	for _, p := range r.PaymentInfos {
		xp := xPmtInf{OrgnlPmtInfId: p.OriginalPmtInfID, PmtInfSts: p.Status, StsRsnInf: reasons(p.Reason)}
		for _, t := range p.Transactions {
			xp.TxInfAndSts = append(xp.TxInfAndSts, xTx{OrgnlEndToEndId: t.OriginalEndToEndID, TxSts: t.Status, StsRsnInf: reasons(t.Reason)})
		}
		x.PmtInfs = append(x.PmtInfs, xp)
	}
	return isoxml.Encode(w, xDocument{Xmlns: isoxml.Namespace(report.Name, 10), Rpt: x})
}

// The report as read and written, by local names and in the order of the schemas.
type xDocument struct {
	XMLName xml.Name `xml:"Document"`
	Xmlns   string   `xml:"xmlns,attr"`
	Rpt     *xReport `xml:"CstmrPmtStsRpt"`
}

type xReport struct {
	MsgId   string    `xml:"GrpHdr>MsgId"`
	CreDtTm string    `xml:"GrpHdr>CreDtTm"`
	Grp     *xGroup   `xml:"OrgnlGrpInfAndSts"`
	PmtInfs []xPmtInf `xml:"OrgnlPmtInfAndSts"`
}

type xGroup struct {
	OrgnlMsgId   string
	OrgnlMsgNmId string
	GrpSts       string `xml:",omitempty"`
	StsRsnInf    []xReason
}

type xPmtInf struct {
	OrgnlPmtInfId string
	PmtInfSts     string `xml:",omitempty"`
	StsRsnInf     []xReason
	TxInfAndSts   []xTx
}

type xTx struct {
	OrgnlEndToEndId string
	TxSts           string
	StsRsnInf       []xReason
}

type xReason struct {
	Cd    string `xml:"Rsn>Cd,omitempty"`
	Prtry string `xml:"Rsn>Prtry,omitempty"`
}

// reason returns the first reason code of rs, else the first proprietary one (see
// Proprietary), or "".
func reason(rs []xReason) string {
	for _, r := range rs {
		if cd := trim(r.Cd); cd != "" {
			return cd
		}
	}
	for _, r := range rs {
		if p := trim(r.Prtry); p != "" {
			return Proprietary + p
		}
	}
	return ""
}

// reasons returns the StsRsnInf of a reason, none for "".
func reasons(reason string) []xReason {
	switch {
	case reason == "":
		return nil
	case strings.HasPrefix(reason, Proprietary):
		return []xReason{{Prtry: reason[len(Proprietary):]}}
	}
	return []xReason{{Cd: reason}}
}

func trim(s string) string { return strings.TrimSpace(s) }
