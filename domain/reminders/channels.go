package reminders

import (
	"fmt"
	"slices"
)

// Channel is a way a message reaches the debtor. Channels have a cost (ByCost orders them,
// cheapest first) and a legal weight (Weight): a ladder step goes by the cheapest channel of
// its policy that has the weight the step needs and that reaches the debtor (Choose).
type Channel string

// The channels, cheapest first.
const (
	ChannelIO    Channel = "io"    // App IO message, with the notice's payment data: informs
	ChannelEmail Channel = "email" // ordinary e-mail: informs
	ChannelPEC   Channel = "pec"   // PEC to the debtor's digital domicile: its receipts prove delivery
	ChannelSEND  Channel = "send"  // SEND notification (piattaforma notifiche digitali), digital or paper
	ChannelPost  Channel = "post"  // a letter printed for the post (ordinary for a sollecito, registered A/R for an act)
)

// ByCost is every channel, cheapest first: the order a step's channels are tried in.
var ByCost = []Channel{ChannelIO, ChannelEmail, ChannelPEC, ChannelSEND, ChannelPost}

// Weight is the legal weight of a message: what its delivery proves.
type Weight int

const (
	// WeightInform is a message that informs the debtor; nothing proves they received it. It
	// is enough for the courtesy reminder, the sollecito, the notice and the receipt.
	WeightInform Weight = iota + 1
	// WeightNotify is a notification with legal effect: its delivery is proven against third
	// parties (PEC receipts, SEND's legal facts, the return card of a registered letter), so
	// the days to pay or to appeal an act count from it. The accertamento esecutivo needs it.
	WeightNotify
)

// String names the weight as the policy errors and the docs do.
func (w Weight) String() string {
	switch w {
	case WeightInform:
		return "inform"
	case WeightNotify:
		return "notify"
	}
	return fmt.Sprintf("Weight(%d)", int(w))
}

// Weight is the legal weight a message by c has; zero for an unknown channel.
func (c Channel) Weight() Weight {
	switch c {
	case ChannelIO, ChannelEmail:
		return WeightInform
	case ChannelPEC, ChannelSEND, ChannelPost:
		return WeightNotify
	}
	return 0
}

// Cost is c's rank in ByCost, cheapest 0; -1 for an unknown channel.
func (c Channel) Cost() int { return slices.Index(ByCost, c) }

// StepWeight is the legal weight a ladder step needs; zero for a step that sends no message.
func StepWeight(step string) Weight {
	switch step {
	case StepCourtesy, StepSollecito:
		return WeightInform
	case StepAccertamento:
		return WeightNotify
	}
	return 0
}

// stepLadders are the channels each step can go by, cheapest first: those with the weight the
// step needs that its message exists for. A policy picks among them (ValidateChannels); the
// ladders a policy gets without listing channels are workflows' Step.Ladder, which post no
// sollecito.
var stepLadders = map[string][]Channel{
	StepCourtesy:     {ChannelIO, ChannelEmail},
	StepSollecito:    {ChannelIO, ChannelEmail, ChannelPEC, ChannelPost}, // post: SollecitoLetter, ordinary post
	StepAccertamento: {ChannelPEC, ChannelSEND, ChannelPost},             // post: Letter, registered
}

// ValidateChannels checks the channels a policy gives a step: at least one, each one the step
// can go by (it has the step's weight), no repeats, cheapest first. The error, a
// *ChannelError, names the index of the channel at fault.
func ValidateChannels(step string, channels []Channel) error {
	allowed, ok := stepLadders[step]
	if !ok {
		return &ChannelError{Index: -1, Problem: fmt.Sprintf("%s sends no message", step)}
	}
	if len(channels) == 0 {
		return &ChannelError{Index: -1, Problem: fmt.Sprintf("%s needs at least one of %v", step, allowed)}
	}
	for i, c := range channels {
		problem := ""
		switch {
		case c.Cost() < 0:
			problem = fmt.Sprintf("%q is not one of %v", c, ByCost)
		case c.Weight() < StepWeight(step):
			problem = fmt.Sprintf("%s has not the legal weight %s needs (%s)", c, step, StepWeight(step))
		case !slices.Contains(allowed, c):
			problem = fmt.Sprintf("%s cannot go by %s (allowed: %v)", step, c, allowed)
		case i > 0 && c.Cost() <= channels[i-1].Cost():
			problem = fmt.Sprintf("%s is repeated or out of order (cheapest first: %v)", c, ByCost)
		}
		if problem != "" {
			return &ChannelError{Index: i, Problem: problem}
		}
	}
	return nil
}

// Choose is the first of channels that reaches the debtor, asked of reaches in order (an App
// IO profile check, an address on file, a domicile lookup); false when none does. An error of
// reaches stops the choice and is returned.
func Choose(channels []Channel, reaches func(Channel) (bool, error)) (Channel, bool, error) {
	for _, c := range channels {
		ok, err := reaches(c)
		if err != nil {
			return "", false, fmt.Errorf("channel %s: %w", c, err)
		}
		if ok {
			return c, true, nil
		}
	}
	return "", false, nil
}
