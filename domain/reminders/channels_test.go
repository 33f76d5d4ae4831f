package reminders_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/domain/reminders"
)

func TestChannelWeightAndCost(t *testing.T) {
	t.Parallel()
	for i, c := range reminders.ByCost {
		require.Equal(t, i, c.Cost(), "%s", c)
		require.NotZero(t, c.Weight(), "%s has a weight", c)
		if i > 0 {
			require.GreaterOrEqual(t, c.Weight(), reminders.ByCost[i-1].Weight(), "a dearer channel weighs no less: %s", c)
		}
	}
	require.Equal(t, reminders.WeightInform, reminders.ChannelIO.Weight())
	require.Equal(t, reminders.WeightInform, reminders.ChannelEmail.Weight())
	require.Equal(t, reminders.WeightNotify, reminders.ChannelPEC.Weight())
	require.Equal(t, reminders.WeightNotify, reminders.ChannelSEND.Weight())
	require.Equal(t, -1, reminders.Channel("sms").Cost())
	require.Zero(t, reminders.Channel("sms").Weight())
	require.Equal(t, reminders.WeightNotify, reminders.StepWeight(reminders.StepAccertamento))
	require.Equal(t, reminders.WeightInform, reminders.StepWeight(reminders.StepCourtesy))
	require.Zero(t, reminders.StepWeight("enforcement"))
}

// Every channel a step can go by is a valid choice for it, alone and all together, and has
// the weight it needs.
func TestStepLadders(t *testing.T) {
	t.Parallel()
	ladders := map[string][]reminders.Channel{
		reminders.StepCourtesy:     {reminders.ChannelIO, reminders.ChannelEmail},
		reminders.StepSollecito:    {reminders.ChannelIO, reminders.ChannelEmail, reminders.ChannelPEC, reminders.ChannelPost},
		reminders.StepAccertamento: {reminders.ChannelPEC, reminders.ChannelSEND, reminders.ChannelPost},
	}
	for step, channels := range ladders {
		require.NoError(t, reminders.ValidateChannels(step, channels), step)
		for _, c := range channels {
			require.NoError(t, reminders.ValidateChannels(step, []reminders.Channel{c}), "%s by %s", step, c)
			require.GreaterOrEqual(t, c.Weight(), reminders.StepWeight(step), "%s by %s", step, c)
		}
	}
	require.Error(t, reminders.ValidateChannels(reminders.StepCourtesy, []reminders.Channel{reminders.ChannelPost}), "no courtesy letter")
}

func TestValidateChannels(t *testing.T) {
	t.Parallel()
	io, email, pec, send := reminders.ChannelIO, reminders.ChannelEmail, reminders.ChannelPEC, reminders.ChannelSEND
	require.NoError(t, reminders.ValidateChannels(reminders.StepSollecito, []reminders.Channel{email}))
	require.NoError(t, reminders.ValidateChannels(reminders.StepAccertamento, []reminders.Channel{send}))
	require.NoError(t, reminders.ValidateChannels(reminders.StepSollecito, []reminders.Channel{email, reminders.ChannelPost}), "a sollecito by letter")
	for _, tt := range []struct {
		step     string
		channels []reminders.Channel
		want     string
	}{
		{reminders.StepCourtesy, nil, "channels: courtesy needs at least one of [io email]"},
		{reminders.StepCourtesy, []reminders.Channel{"sms"}, `channels[0]: "sms" is not one of`},
		{reminders.StepAccertamento, []reminders.Channel{pec, io}, "channels[1]: io has not the legal weight accertamento needs (notify)"},
		{reminders.StepCourtesy, []reminders.Channel{io, pec}, "channels[1]: courtesy cannot go by pec"},
		{reminders.StepSollecito, []reminders.Channel{email, io}, "channels[1]: io is repeated or out of order"},
		{reminders.StepSollecito, []reminders.Channel{email, email}, "channels[1]: email is repeated or out of order"},
		{"enforcement", []reminders.Channel{pec}, "channels: enforcement sends no message"},
	} {
		err := reminders.ValidateChannels(tt.step, tt.channels)
		require.ErrorIs(t, err, reminders.ErrInvalid, "%s %v", tt.step, tt.channels)
		require.ErrorContains(t, err, tt.want)
		var ce *reminders.ChannelError
		require.ErrorAs(t, err, &ce)
	}
}

// Choose asks the channels in order and stops at the first that reaches the debtor, or at an
// error.
func TestChoose(t *testing.T) {
	t.Parallel()
	ladder := []reminders.Channel{reminders.ChannelIO, reminders.ChannelEmail, reminders.ChannelPEC}
	var asked []reminders.Channel
	reaches := func(ok ...reminders.Channel) func(reminders.Channel) (bool, error) {
		asked = nil
		return func(c reminders.Channel) (bool, error) {
			asked = append(asked, c)
			for _, o := range ok {
				if o == c {
					return true, nil
				}
			}
			return false, nil
		}
	}

	c, ok, err := reminders.Choose(ladder, reaches(reminders.ChannelIO, reminders.ChannelEmail))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, reminders.ChannelIO, c)
	require.Equal(t, []reminders.Channel{reminders.ChannelIO}, asked)

	c, ok, err = reminders.Choose(ladder, reaches(reminders.ChannelPEC))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, reminders.ChannelPEC, c, "no IO profile nor e-mail: the ladder's next channel")
	require.Equal(t, ladder, asked)

	_, ok, err = reminders.Choose(ladder, reaches())
	require.NoError(t, err)
	require.False(t, ok)

	down := errors.New("io down")
	_, _, err = reminders.Choose(ladder, func(reminders.Channel) (bool, error) { return false, down })
	require.ErrorIs(t, err, down)
	require.ErrorContains(t, err, "channel io")
}
