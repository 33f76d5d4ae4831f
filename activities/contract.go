package activities

import "incasso/workflows"

// Each struct implements the activities the workflows call on it: a change of signature on
// either side fails to compile here.
var (
	_ workflows.DebtActivities     = (*Debts)(nil)
	_ workflows.PlanActivities     = (*Plans)(nil)
	_ workflows.SDDActivities      = (*SDD)(nil)
	_ workflows.CampaignActivities = (*Campaigns)(nil)
	_ workflows.RecoveryActivities = (*Recovery)(nil)
	_ workflows.HealActivities     = (*Healer)(nil)
	_ workflows.ArchiveActivities  = (*Archive)(nil)
)
