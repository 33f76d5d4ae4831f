package console

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/workflows"
)

// funcs are the templates' helpers: numbers and dates the Italian way, statuses in Italian.
var funcs = template.FuncMap{
	"euro":         func(c money.Cents) string { return c.Italian() },
	"num":          num,
	"pct":          pct,
	"date":         func(t time.Time) string { return date.InRome(t).Italian() },
	"day":          func(d date.Date) string { return d.Italian() },
	"datetime":     dateTime,
	"status":       campaignStatus,
	"debtStatus":   debtStatus,
	"add":          func(a, b int) int { return a + b },
	"progressMax":  func(n int64) int64 { return max(n, 1) },
	"statusFinish": finished,
	"lower":        strings.ToLower,
	"italian":      italian,
}

// num writes a whole number with a dot every three digits, as Italian does: 1234567 -> 1.234.567.
func num(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	return sign + string(out)
}

// pct is part of whole in whole percent, rounded down (so 100 means all of it).
func pct(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	return min(100, max(0, part*100/whole))
}

func dateTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.In(date.Rome).Format("02/01/2006 15:04")
}

func campaignStatus(s string) string {
	switch s {
	case workflows.CampaignReady:
		return "Pronta"
	case workflows.CampaignRunning:
		return "In corso"
	case workflows.CampaignPaused:
		return "In pausa"
	case workflows.CampaignCancelled:
		return "Annullata"
	case workflows.CampaignCompleted:
		return "Completata"
	case workflows.CampaignWithdrawn:
		return "Ritirata"
	}
	return s
}

func debtStatus(s workflows.DebtStatus) string {
	switch s {
	case workflows.StatusCreated:
		return "Creato"
	case workflows.StatusIssued:
		return "Emesso"
	case workflows.StatusOverdue:
		return "Scaduto"
	case workflows.StatusPaid:
		return "Pagato"
	case workflows.StatusCancelled:
		return "Annullato"
	case workflows.StatusInstalments:
		return "A rate (SDD)"
	case workflows.StatusSuperseded:
		return "Sostituito dal residuo"
	}
	return string(s)
}
