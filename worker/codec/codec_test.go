package codec

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"incasso/devstack/testkeys"
	"incasso/domain/keyring"
)

type input struct {
	Reason string `json:"reason"`
	Cents  int64  `json:"cents"`
}

func TestDataConverterEncryptsAndRotates(t *testing.T) {
	t.Parallel()
	k1, k2 := testkeys.Key(t, "k1"), testkeys.Key(t, "k2")
	old := DataConverter(testkeys.Ring(t, k1))
	p, err := old.ToPayload(input{Reason: "iscrizione duplicata di Mario Rossi", Cents: 12345})
	require.NoError(t, err)
	require.Equal(t, Encoding, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[MetadataKeyID]))
	require.NotContains(t, string(p.Data), "Mario")
	require.NotContains(t, p.String(), "Mario")

	rotated := DataConverter(testkeys.Ring(t, k2, k1))
	var got input
	require.NoError(t, rotated.FromPayload(p, &got), "payloads of the old key stay readable")
	require.Equal(t, input{Reason: "iscrizione duplicata di Mario Rossi", Cents: 12345}, got)
	p2, err := rotated.ToPayload(got)
	require.NoError(t, err)
	require.Equal(t, "k2", string(p2.Metadata[MetadataKeyID]), "the newest key encrypts")

	err = old.FromPayload(p2, &got)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)
	require.ErrorContains(t, err, "key k2")

	plain, err := converter.GetDefaultDataConverter().ToPayload(input{Reason: "recorded before", Cents: 1})
	require.NoError(t, err)
	require.NoError(t, rotated.FromPayload(plain, &got), "unencrypted payloads pass through")
	require.Equal(t, "recorded before", got.Reason)

	tampered := &commonpb.Payload{Metadata: p.Metadata, Data: bytes.Clone(p.Data)}
	tampered.Data[len(tampered.Data)-1] ^= 1
	require.ErrorIs(t, rotated.FromPayload(tampered, &got), keyring.ErrOpen)
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	t.Parallel()
	dc := DataConverter(testkeys.New(t, "k1"))
	fc := FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("550 mailbox mario.rossi@example.it unavailable", "SMTPRefused"))
	require.NotContains(t, protojson.Format(f), "mario.rossi")
	err := fc.FailureToError(f)
	require.ErrorContains(t, err, "mario.rossi@example.it")
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, "SMTPRefused", app.Type())
}

func TestHandler(t *testing.T) {
	t.Parallel()
	r := testkeys.New(t, "k1")
	srv := httptest.NewServer(Handler(r))
	t.Cleanup(srv.Close)
	remote := converter.NewRemoteDataConverter(converter.GetDefaultDataConverter(), converter.RemoteDataConverterOptions{Endpoint: srv.URL + "/codec"})

	p, err := remote.ToPayload("motivo: rateizzazione")
	require.NoError(t, err)
	require.Equal(t, Encoding, string(p.Metadata[converter.MetadataEncoding]), "encoded by the server")
	var s string
	require.NoError(t, DataConverter(r).FromPayload(p, &s))
	require.Equal(t, "motivo: rateizzazione", s)

	s = ""
	require.NoError(t, remote.FromPayload(p, &s), "decoded by the server")
	require.Equal(t, "motivo: rateizzazione", s)

	resp, err := http.Get(srv.URL + "/codec/decode")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "POST only")
}

func TestDecodeHistory(t *testing.T) {
	t.Parallel()
	r := testkeys.New(t, "k1")
	dc := DataConverter(r)
	in, err := dc.ToPayloads(input{Reason: "cambio di residenza", Cents: 5})
	require.NoError(t, err)
	cause := FailureConverter(dc).ErrorToFailure(temporal.NewApplicationErrorWithCause("outer trouble", "Outer", errors.New("inner: via Roma 1")))
	h := &historypb.History{Events: []*historypb.HistoryEvent{
		{EventId: 1, Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: in}}},
		{EventId: 2, Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{
			WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{Failure: cause}}},
	}}
	raw := protojson.Format(h)
	for _, secret := range []string{"cambio di residenza", "outer trouble", "via Roma"} {
		require.NotContains(t, raw, secret)
	}
	require.NoError(t, DecodeHistory(context.Background(), h, r))
	clear := protojson.Format(h)
	for _, secret := range []string{"outer trouble", "via Roma"} {
		require.Contains(t, clear, secret)
	}
	require.NotContains(t, clear, Encoding)
	var got input
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &got),
		"readable without the codec")
	require.Equal(t, "cambio di residenza", got.Reason)
	f := h.Events[1].GetWorkflowExecutionFailedEventAttributes().GetFailure()
	require.Equal(t, "outer trouble", f.GetMessage())
	require.Nil(t, f.GetEncodedAttributes())
	require.Equal(t, "inner: via Roma 1", f.GetCause().GetMessage(), "causes too")
}
