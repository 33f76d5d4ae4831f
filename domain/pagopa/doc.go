// Package pagopa holds the pure parts of the pagoPA integration: notice numbers (NAV and IUV)
// and the SOAP messages of the EC's paForNode interface. It does no I/O.
package pagopa
