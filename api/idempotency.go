package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"incasso/db/dbgen"
	"incasso/services/access"
)

// idempotencyRetention is how long an answer is kept for its Idempotency-Key: a key older is
// claimed again as new.
var idempotencyRetention = pgtype.Interval{Days: 1, Valid: true}

const (
	// idempotentAnswerMax is the largest answer kept; a larger one is not replayed (the key
	// is freed, and a retry runs the request again, as idempotent as the route itself is).
	idempotentAnswerMax = 1 << 20
)

// idempotent makes a POST sent with an Idempotency-Key header one operation however often it
// is sent: the first request with a key claims it (per client, route and key) with the hash of
// the request, and its answer is stored; the same request again gets the stored answer
// replayed (Idempotent-Replayed: true), another request under the same key is a 422, and one
// that comes while the first is still running a 409. Answers that say "retry" (202 still
// running, 429, 5xx) are not stored: the key is freed for the retry. POSTs that only read
// (their rule marks a read of personal data: search, exports, the debtor's file) are not
// stored either: repeating them is harmless, and their answers would keep personal data.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.Header.Get("Idempotency-Key")
		if req.Method != http.MethodPost || key == "" {
			return next(c)
		}
		if rule, _ := access.RuleOf(req.Method, c.Path()); rule.PersonalData {
			return next(c)
		}
		if len(key) > 255 {
			return invalid([]FieldError{{Field: "Idempotency-Key", Message: "at most 255 characters"}})
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return problem(http.StatusRequestEntityTooLarge, "the body is too large")
			}
			return problem(http.StatusBadRequest, "cannot read the request body")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", req.Method, req.URL.RequestURI(), req.Header.Get(echo.HeaderContentType))
		h.Write(body)

		ctx, q := req.Context(), dbgen.New(s.Pool)
		id := dbgen.ClaimIdempotencyKeyParams{
			Client: principalOf(c).Actor(), Route: c.Path(), Key: key, RequestSha256: h.Sum(nil),
			Retention: idempotencyRetention,
		}
		claim, err := q.ClaimIdempotencyKey(ctx, id)
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		if !claim.Claimed {
			switch {
			case !bytes.Equal(claim.RequestSha256, id.RequestSha256):
				return invalid([]FieldError{{Field: "Idempotency-Key", Message: "used already for another request: a new request needs a new key"}})
			case claim.Status == 0:
				c.Response().Header().Set("Retry-After", "1")
				return problem(http.StatusConflict, "a request with this Idempotency-Key is still running; retry later")
			}
			if claim.Location != "" {
				c.Response().Header().Set(echo.HeaderLocation, claim.Location)
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(int(claim.Status), claim.ContentType, claim.Body)
		}

		answer := &capture{ResponseWriter: c.Response().Writer}
		c.Response().Writer = answer
		if err := next(c); err != nil {
			c.Error(err)
		}
		res := c.Response()
		keep := res.Status < 500 && res.Status != http.StatusAccepted && res.Status != http.StatusTooManyRequests && !answer.overflow
		// The request's context may be ending with its client: the key must still be settled.
		ctx = context.WithoutCancel(ctx)
		if keep {
			err = q.StoreIdempotentAnswer(ctx, dbgen.StoreIdempotentAnswerParams{
				Client: id.Client, Route: id.Route, Key: id.Key, Status: int32(res.Status),
				ContentType: res.Header().Get(echo.HeaderContentType), Location: res.Header().Get(echo.HeaderLocation),
				Body: answer.body.Bytes(),
			})
		} else {
			err = q.ReleaseIdempotencyKey(ctx, dbgen.ReleaseIdempotencyKeyParams{Client: id.Client, Route: id.Route, Key: id.Key})
		}
		if err != nil {
			s.Log.Error("idempotency key not settled", "route", id.Route, "status", res.Status, "err", err)
		}
		return nil
	}
}

// capture passes an answer through and keeps a copy of its body, up to idempotentAnswerMax.
type capture struct {
	http.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (w *capture) Write(b []byte) (int, error) {
	if !w.overflow {
		if w.body.Len()+len(b) > idempotentAnswerMax {
			w.overflow = true
			w.body.Reset()
		} else {
			w.body.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streamed answers through.
func (w *capture) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
