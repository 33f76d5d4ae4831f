package camt054

// Error reports what is wrong in a notification, and where.
type Error struct {
	Path    string // the element, e.g. Ntfctn[1]/Ntry[2]/NtryDtls/TxDtls[1]/RtrInf/Rsn/Cd
	Problem string
}

func (e *Error) Error() string { return "camt054: " + e.Path + " " + e.Problem }
