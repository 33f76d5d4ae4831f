package pagopa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Namespaces of the paForNode interface.
const (
	NSSoapEnv   = "http://schemas.xmlsoap.org/soap/envelope/"
	NSPaForNode = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"
)

// Fault codes the EC answers with (DOMAIN.md section 3).
const (
	FaultUnknownPayment   = "PAA_PAGAMENTO_SCONOSCIUTO"
	FaultExpiredPayment   = "PAA_PAGAMENTO_SCADUTO"
	FaultCancelledPayment = "PAA_PAGAMENTO_ANNULLATO"
	FaultDuplicatePayment = "PAA_PAGAMENTO_DUPLICATO"
	FaultDuplicateReceipt = "PAA_RECEIPT_DUPLICATA"
	FaultSemantics        = "PAA_SEMANTICA"
	FaultSyntax           = "PAA_SINTASSI_XSD"
	FaultWrongDomain      = "PAA_ID_DOMINIO_ERRATO"
	FaultWrongStation     = "PAA_STAZIONE_INT_ERRATA"
	FaultWrongBroker      = "PAA_ID_INTERMEDIARIO_ERRATO"
	FaultSystem           = "PAA_SYSTEM_ERROR"
)

// ErrSyntax is returned for a request that is not a well-formed paForNode SOAP message.
var ErrSyntax = errors.New("malformed SOAP request")

// Subject is a debtor or payer (ctSubject); everything after FullName is optional.
type Subject struct {
	UniqueIdentifier struct {
		Type  string `xml:"entityUniqueIdentifierType"`
		Value string `xml:"entityUniqueIdentifierValue"`
	} `xml:"uniqueIdentifier"`
	FullName            string `xml:"fullName"`
	StreetName          string `xml:"streetName,omitempty"`
	CivicNumber         string `xml:"civicNumber,omitempty"`
	PostalCode          string `xml:"postalCode,omitempty"`
	City                string `xml:"city,omitempty"`
	StateProvinceRegion string `xml:"stateProvinceRegion,omitempty"`
	Country             string `xml:"country,omitempty"` // two capital letters, e.g. IT
	Email               string `xml:"e-mail,omitempty"`
}

// MapEntry is one key and value of a Metadata (ctMapEntry).
type MapEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// Metadata is a ctMetadata: 1 to 15 entries. Optional elements of this type are pointers,
// since an empty metadata element does not validate.
type Metadata struct {
	Entries []MapEntry `xml:"mapEntry"`
}

// QRCode identifies a notice: the EC's fiscal code and the NAV (ctQrCode).
type QRCode struct {
	FiscalCode   string `xml:"fiscalCode"`
	NoticeNumber string `xml:"noticeNumber"`
}

// ReceiptTransfer is one transfer of a V2 receipt (ctTransferPAReceiptV2): the XSD gives it
// the elements of ctTransferPAV2 that incasso writes in a payment (PaymentTransfer). Only the
// IBAN branch of the IBAN/MBDAttachment choice is supported.
type ReceiptTransfer = PaymentTransfer

// ReceiptV2 is the receipt (ctReceiptV2) in the order the XSD sequence requires.
type ReceiptV2 struct {
	ReceiptID            string            `xml:"receiptId"`
	NoticeNumber         string            `xml:"noticeNumber"`
	FiscalCode           string            `xml:"fiscalCode"`
	Outcome              string            `xml:"outcome"`
	CreditorReferenceID  string            `xml:"creditorReferenceId"`
	PaymentAmount        string            `xml:"paymentAmount"`
	Description          string            `xml:"description"`
	CompanyName          string            `xml:"companyName"`
	OfficeName           string            `xml:"officeName,omitempty"`
	Debtor               Subject           `xml:"debtor"`
	Transfers            []ReceiptTransfer `xml:"transferList>transfer"`
	IDPSP                string            `xml:"idPSP"`
	PSPFiscalCode        string            `xml:"pspFiscalCode,omitempty"`
	PSPPartitaIVA        string            `xml:"pspPartitaIVA,omitempty"`
	PSPCompanyName       string            `xml:"PSPCompanyName"`
	IDChannel            string            `xml:"idChannel"`
	ChannelDescription   string            `xml:"channelDescription"`
	Payer                *Subject          `xml:"payer,omitempty"`
	PaymentMethod        string            `xml:"paymentMethod,omitempty"`
	PaymentNote          string            `xml:"paymentNote,omitempty"`
	Fee                  string            `xml:"fee,omitempty"`
	PrimaryCiIncurredFee string            `xml:"primaryCiIncurredFee,omitempty"`
	IDBundle             string            `xml:"idBundle,omitempty"`
	IDCiBundle           string            `xml:"idCiBundle,omitempty"`
	PaymentDateTime      string            `xml:"paymentDateTime,omitempty"`
	ApplicationDate      string            `xml:"applicationDate,omitempty"`
	TransferDate         string            `xml:"transferDate,omitempty"`
	Metadata             *Metadata         `xml:"metadata,omitempty"`
	StandIn              bool              `xml:"standIn,omitempty"`
}

// Header identifies who the Nodo is calling: the EC, its broker and station.
type Header struct {
	IDPA       string `xml:"idPA"`
	IDBrokerPA string `xml:"idBrokerPA"`
	IDStation  string `xml:"idStation"`
}

// SendRTV2Request is paSendRTV2Request: the Nodo delivers a receipt.
type SendRTV2Request struct {
	Header
	Receipt ReceiptV2 `xml:"receipt"`
}

// Fault is the ctFaultBean of a KO response.
type Fault struct {
	FaultCode   string `xml:"faultCode"`
	FaultString string `xml:"faultString"`
	ID          string `xml:"id"`
	Description string `xml:"description,omitempty"`
}

// Response is the ctResponse common to every paForNode answer: outcome and, on KO, a fault.
type Response struct {
	Outcome string `xml:"outcome"`
	Fault   *Fault `xml:"fault,omitempty"`
}

// Result returns the outcome of a response type that embeds Response.
func (r Response) Result() Response { return r }

// SendRTV2Response is paSendRTV2Response.
type SendRTV2Response struct {
	Response
}

// Operation and element names of the paForNode messages handled here.
const (
	OpVerifyPaymentNotice      = "paVerifyPaymentNotice"
	ElemVerifyPaymentNoticeReq = "paVerifyPaymentNoticeReq"
	ElemVerifyPaymentNoticeRes = "paVerifyPaymentNoticeRes"

	OpGetPaymentV2           = "paGetPaymentV2"
	ElemGetPaymentV2Request  = "paGetPaymentV2Request"
	ElemGetPaymentV2Response = "paGetPaymentV2Response"

	OpSendRTV2           = "paSendRTV2"
	ElemSendRTV2Request  = "paSendRTV2Request"
	ElemSendRTV2Response = "paSendRTV2Response"
)

// OK is a positive response.
func OK() Response { return Response{Outcome: "OK"} }

// KO is a negative response with the fault code, a short text and the id of who answers
// (the EC's fiscal code).
func KO(code, description, id string) Response {
	return Response{Outcome: "KO", Fault: &Fault{FaultCode: code, FaultString: code, ID: id, Description: description}}
}

type envelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct{} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body    struct {
		// Elements are the body's children, named with prefixes resolved against the whole
		// envelope: the Nodo may declare the paForNode prefix on the Envelope element.
		Elements []struct {
			XMLName xml.Name
		} `xml:",any"`
		Inner []byte `xml:",innerxml"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// Wrap marshals body as the paForNode element named element (prefixed, since the schema's
// local elements are unqualified) inside a SOAP 1.1 envelope.
func Wrap(element string, body any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(`<soapenv:Envelope xmlns:soapenv="` + NSSoapEnv + `"><soapenv:Header/><soapenv:Body>`)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{
		Name: xml.Name{Local: "pafn:" + element},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns:pafn"}, Value: NSPaForNode}},
	}
	if err := enc.EncodeElement(body, start); err != nil {
		return nil, fmt.Errorf("marshal %s: %w", element, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	buf.WriteString(`</soapenv:Body></soapenv:Envelope>`)
	return buf.Bytes(), nil
}

// Unwrap reads a SOAP envelope and returns the name of the operation element in its body
// (the first one, with its namespace) and the body's inner XML. The inner XML is copied as
// is, so a prefix declared on the envelope stays undeclared in it; DecodeBody does not mind,
// since the schema's local elements are unqualified. It fails with ErrSyntax for anything
// that is not such an envelope.
func Unwrap(r io.Reader) (xml.Name, []byte, error) {
	var env envelope
	if err := xml.NewDecoder(r).Decode(&env); err != nil {
		return xml.Name{}, nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if len(env.Body.Elements) == 0 {
		return xml.Name{}, nil, fmt.Errorf("%w: empty body", ErrSyntax)
	}
	return env.Body.Elements[0].XMLName, env.Body.Inner, nil
}

// DecodeBody decodes a body returned by Unwrap into v, failing with ErrSyntax.
func DecodeBody(inner []byte, v any) error {
	if err := xml.Unmarshal(inner, v); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}
