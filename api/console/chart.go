package console

import (
	"fmt"
	"strings"

	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/campaigns"
)

// chart is the campaign's collected and outstanding amounts day by day, drawn as inline SVG
// by the campaign template: collected is the running sum of the receipts per day (in Rome);
// outstanding is what the debts issued so far (as of now) less what was collected up to
// that day.
type chart struct {
	Width, Height            int
	Left, Right, Top, Bottom float64 // the plot area
	Collected, Outstanding   string  // polyline points, "x,y x,y ..."
	Dots                     []dot   // one per day and series, when the days are few
	YTicks, XTicks           []tick
	Days                     int
	Empty                    bool // nothing issued nor collected yet
	Summary                  string
}

type dot struct {
	X, Y  float64
	Class string
}

type tick struct {
	X, Y  float64
	Label string
}

const (
	chartWidth, chartHeight = 760, 280
	maxDots                 = 62 // beyond, the lines alone
)

func buildChart(days []campaigns.DayAmount, issued money.Cents, from, to date.Date) chart {
	if len(days) > 0 {
		if first := days[0].Day; first.Before(from) {
			from = first
		}
		if last := days[len(days)-1].Day; to.Before(last) {
			to = last
		}
	}
	if to.Before(from) {
		to = from
	}
	byDay := make(map[date.Date]money.Cents, len(days))
	for _, d := range days {
		byDay[d.Day] += d.Cents
	}
	var (
		labels                 []date.Date
		collected, outstanding []money.Cents
		sum                    money.Cents
	)
	for t := from.Time(); !t.After(to.Time()); t = t.AddDate(0, 0, 1) {
		d := date.Of(t)
		sum += byDay[d]
		labels = append(labels, d)
		collected = append(collected, sum)
		outstanding = append(outstanding, max(issued-sum, 0))
	}

	c := chart{Width: chartWidth, Height: chartHeight, Left: 96, Right: chartWidth - 16, Top: 16, Bottom: chartHeight - 40, Days: len(labels)}
	top := max(issued, sum)
	c.Empty = top == 0
	step := niceStep(max(top, 100) / 4)
	yMax := max(step*4, (top+step-1)/step*step)
	y := func(v money.Cents) float64 { return c.Bottom - float64(v)/float64(yMax)*(c.Bottom-c.Top) }
	x := func(i int) float64 {
		if len(labels) == 1 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + float64(i)/float64(len(labels)-1)*(c.Right-c.Left)
	}
	for v := money.Cents(0); v <= yMax; v += step {
		c.YTicks = append(c.YTicks, tick{X: c.Left - 8, Y: y(v), Label: euroLabel(v)})
	}
	every := max(1, (len(labels)+5)/6)
	for i, d := range labels {
		if i%every == 0 || i == len(labels)-1 {
			c.XTicks = append(c.XTicks, tick{X: x(i), Y: c.Bottom + 20, Label: fmt.Sprintf("%02d/%02d", d.Day, d.Month)})
		}
	}
	var pc, po strings.Builder
	for i := range labels {
		fmt.Fprintf(&pc, "%.1f,%.1f ", x(i), y(collected[i]))
		fmt.Fprintf(&po, "%.1f,%.1f ", x(i), y(outstanding[i]))
		if len(labels) <= maxDots {
			c.Dots = append(c.Dots, dot{x(i), y(outstanding[i]), "outstanding"}, dot{x(i), y(collected[i]), "collected"})
		}
	}
	c.Collected, c.Outstanding = strings.TrimSpace(pc.String()), strings.TrimSpace(po.String())
	c.Summary = fmt.Sprintf("Dal %s al %s: incassati %s euro, da incassare %s euro.",
		from.Italian(), to.Italian(), sum.Italian(), outstanding[len(outstanding)-1].Italian())
	return c
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten (cents).
func niceStep(v money.Cents) money.Cents {
	for p := money.Cents(1); ; p *= 10 {
		for _, m := range []money.Cents{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

// euroLabel writes an axis amount: whole euro when it has no cents.
func euroLabel(v money.Cents) string {
	s := v.Italian()
	return strings.TrimSuffix(s, ",00") + " €"
}
