package pain002

// Error reports what is wrong in a status report, and where.
type Error struct {
	Path    string // the element, e.g. OrgnlPmtInfAndSts[OrgnlPmtInfId="PMT-1"]/TxInfAndSts[2]/TxSts
	Problem string
}

func (e *Error) Error() string { return "pain002: " + e.Path + " " + e.Problem }
