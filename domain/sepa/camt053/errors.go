package camt053

// Error reports what is wrong in a statement, and where.
type Error struct {
	Path    string // the element, e.g. Stmt/Ntry[2]/NtryDtls/TxDtls[1]/RmtInf/Ustrd
	Problem string
}

func (e *Error) Error() string { return "camt053: " + e.Path + " " + e.Problem }
