package pagopa

// The messages the Nodo sends before a payment: it verifies a notice, then asks for the
// payment to activate. Fields follow the XSD sequences; amounts are money.Cents.Decimal()
// strings and dates are ISO 8601 (2026-11-25).

// VerifyPaymentNoticeRequest is paVerifyPaymentNoticeReq: the Nodo asks about a notice.
type VerifyPaymentNoticeRequest struct {
	Header
	QRCode QRCode `xml:"qrCode"`
}

// PaymentOptionDescription is the single option of a verified notice
// (ctPaymentOptionDescriptionPA).
type PaymentOptionDescription struct {
	Amount            string `xml:"amount"`
	Options           string `xml:"options"` // EQ, LS, GT or ANY: how the paid amount may differ
	DueDate           string `xml:"dueDate,omitempty"`
	DetailDescription string `xml:"detailDescription,omitempty"`
	AllCCP            bool   `xml:"allCCP"` // whether every transfer IBAN is a postal account
}

// VerifyPaymentNoticeResponse is paVerifyPaymentNoticeRes. On KO only Response is set.
type VerifyPaymentNoticeResponse struct {
	Response
	PaymentOption      *PaymentOptionDescription `xml:"paymentList>paymentOptionDescription,omitempty"`
	PaymentDescription string                    `xml:"paymentDescription,omitempty"`
	FiscalCodePA       string                    `xml:"fiscalCodePA,omitempty"`
	CompanyName        string                    `xml:"companyName,omitempty"`
	OfficeName         string                    `xml:"officeName,omitempty"`
}

// GetPaymentV2Request is paGetPaymentV2Request: the Nodo activates a payment of a notice.
type GetPaymentV2Request struct {
	Header
	QRCode       QRCode `xml:"qrCode"`
	Amount       string `xml:"amount,omitempty"`
	PaymentNote  string `xml:"paymentNote,omitempty"`
	TransferType string `xml:"transferType,omitempty"` // POSTAL or PAGOPA
	DueDate      string `xml:"dueDate,omitempty"`
}

// PaymentTransfer is one transfer of a payment (ctTransferPAV2). Only the IBAN branch of the
// IBAN/richiestaMarcaDaBollo choice is supported.
type PaymentTransfer struct {
	IDTransfer            string    `xml:"idTransfer"` // 1 to 5
	TransferAmount        string    `xml:"transferAmount"`
	FiscalCodePA          string    `xml:"fiscalCodePA"`
	CompanyName           string    `xml:"companyName,omitempty"`
	IBAN                  string    `xml:"IBAN"`
	RemittanceInformation string    `xml:"remittanceInformation"`
	TransferCategory      string    `xml:"transferCategory"`
	Metadata              *Metadata `xml:"metadata,omitempty"`
}

// PaymentV2 is the payment the EC returns to paGetPaymentV2 (ctPaymentPAV2).
type PaymentV2 struct {
	CreditorReferenceID string            `xml:"creditorReferenceId"` // the IUV
	PaymentAmount       string            `xml:"paymentAmount"`
	DueDate             string            `xml:"dueDate"`
	RetentionDate       string            `xml:"retentionDate,omitempty"` // date and time
	LastPayment         bool              `xml:"lastPayment,omitempty"`
	Description         string            `xml:"description"`
	CompanyName         string            `xml:"companyName"`
	OfficeName          string            `xml:"officeName,omitempty"`
	Debtor              Subject           `xml:"debtor"`
	Transfers           []PaymentTransfer `xml:"transferList>transfer"`
	Metadata            *Metadata         `xml:"metadata,omitempty"`
}

// GetPaymentV2Response is paGetPaymentV2Response. On KO Data is nil.
type GetPaymentV2Response struct {
	Response
	Data *PaymentV2 `xml:"data,omitempty"`
}
