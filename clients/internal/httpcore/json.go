package httpcore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// DoJSON makes call with in, if not nil, as its JSON body, asking for JSON, and decodes a
// successful answer into out, if not nil.
func (c *Client) DoJSON(ctx context.Context, call Call, in, out any) error {
	if call.Header == nil {
		call.Header = http.Header{}
	}
	call.Header.Set("Accept", "application/json")
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.cfg.Service, call.Op, err)
		}
		call.Header.Set("Content-Type", "application/json")
		call.Body, call.Size = func() io.Reader { return bytes.NewReader(body) }, int64(len(body))
	}
	a, err := c.Do(ctx, call)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", c.cfg.Service, call.Op, err)
	}
	return nil
}
