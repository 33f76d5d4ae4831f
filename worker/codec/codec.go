// Package codec encrypts the payloads incasso hands to Temporal: workflow and activity inputs
// and results, signal and update arguments (the reasons an operator types, amounts, ids) and
// the messages of failures, so that the Temporal server, its database and its backups hold
// ciphertext only. Each payload becomes one encrypted with AES-256-GCM by the newest key of a
// keyring.Ring, the key's id in its metadata: old payloads stay readable as long as their key
// is in the ring. Payloads that are not encrypted (histories from before, the replay tests'
// recorded histories) pass through Decode unchanged.
//
// The Temporal client of the API and the worker use DataConverter and FailureConverter; the
// API serves Handler as the codec server the Temporal Web UI and CLI call to show payloads to
// operators (POST {endpoint}/encode and {endpoint}/decode, JSON Payloads).
package codec

import (
	"context"
	"fmt"
	"net/http"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"incasso/domain/keyring"
)

// The metadata of an encrypted payload.
const (
	// Encoding is the payload's encoding: encrypted binary, whatever it held.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher says how: AES-256-GCM, 12-byte nonce first, over the protobuf encoding
	// of the original payload (its metadata and data).
	MetadataCipher = "encryption-cipher"
	cipherName     = "AES256-GCM"
)

// Codec is the payload codec of a ring.
type Codec struct {
	ring *keyring.Ring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec that encrypts with the ring's current key.
func New(ring *keyring.Ring) *Codec { return &Codec{ring: ring} }

// Encode encrypts every payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		id, sealed := c.ring.Seal(plain, nil)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(id),
				MetadataCipher:             []byte(cipherName),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts the encrypted payloads and leaves the others as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if c := string(p.GetMetadata()[MetadataCipher]); c != "" && c != cipherName {
			return nil, fmt.Errorf("decode payload: unknown cipher %q", c)
		}
		plain, err := c.ring.Open(id, p.GetData(), nil)
		if err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decode payload sealed with key %s: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter is Temporal's default data converter with the ring's encryption.
func DataConverter(ring *keyring.Ring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(ring))
}

// FailureConverter keeps the message and stack trace of failures in an encrypted payload
// (errors can quote what a server answered, which may name a person).
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

// Handler is the codec server of the ring: POST .../encode and .../decode with a JSON
// Payloads body, as the Temporal Web UI and CLI call it. Authentication, CORS and body limits
// are the caller's.
func Handler(ring *keyring.Ring) http.Handler {
	return converter.NewPayloadCodecHTTPHandler(New(ring))
}

// DecodeHistory decrypts in place every payload and failure message of msg (a history, an
// event), for tools that write histories out in clear, such as the replay tests' recordings.
func DecodeHistory(ctx context.Context, msg proto.Message, ring *keyring.Ring) error {
	dc := DataConverter(ring)
	err := proxy.VisitFailures(ctx, msg, proxy.VisitFailuresOptions{
		Visitor: func(_ *proxy.VisitFailuresContext, f *failurepb.Failure) error {
			if f.GetEncodedAttributes() != nil {
				converter.DecodeCommonFailureAttributes(dc, f)
				f.EncodedAttributes = nil
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	c := New(ring)
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Decode(p)
		},
	})
}
