package appio_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/clients/appio"
)

func TestForPerson(t *testing.T) {
	t.Parallel()
	require.True(t, appio.ForPerson(citizen))
	require.False(t, appio.ForPerson(strings.ToLower(citizen)), "IO wants capitals")
	require.False(t, appio.ForPerson("00560180128"), "a company has no IO profile")
	require.False(t, appio.ForPerson("RSSMRA80A01H501X"), "wrong check character")
}

// A message the spec would refuse is an error naming the field, never its value.
func TestBodyValidation(t *testing.T) {
	t.Parallel()
	body, err := payment().Body()
	require.NoError(t, err)
	again, err := payment().Body()
	require.NoError(t, err)
	require.Equal(t, body, again, "the same message, the same bytes")

	for field, change := range map[string]func(*appio.Message){
		"FiscalCode":              func(m *appio.Message) { m.FiscalCode = "00560180128" },
		"Subject":                 func(m *appio.Message) { m.Subject = "Avviso" },
		"Markdown":                func(m *appio.Message) { m.Markdown = "Paghi." },
		"Payment.NoticeNumber":    func(m *appio.Message) { m.Payment.NoticeNumber = "902201151398574181" },
		"Payment.Amount":          func(m *appio.Message) { m.Payment.Amount = 0 },
		"Payment.PayeeFiscalCode": func(m *appio.Message) { m.Payment.PayeeFiscalCode = citizen },
	} {
		m := payment()
		change(&m)
		_, err := m.Body()
		require.ErrorIs(t, err, appio.ErrInvalid, field)
		require.ErrorContains(t, err, field)
		require.NotContains(t, err.Error(), citizen)
	}
	m := payment()
	m.Subject = "Avviso di pagamento\nBcc: x"
	_, err = m.Body()
	require.ErrorContains(t, err, "Subject must be one line")
}
