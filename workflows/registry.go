package workflows

// All returns every workflow function of incasso, each registered under its function name:
// the worker registers exactly these, and the replay tests require a recorded history of
// each one in testdata.
func All() []any {
	return []any{Debt, ReceiptRecovery, ArchivePurge, Campaign, CampaignWithdraw,
		InstalmentPlan, CollectionRun, BankNotifications, FdRIntake}
}
