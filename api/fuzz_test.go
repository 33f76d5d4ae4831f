package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/domain/fiscalcode"
	"incasso/services/debts"
)

// FuzzCreateDebtBody feeds bodies of POST /v1/debts to its decoding and validation: a body is
// refused with a 400 or with errors that each name a field of the request, or it is accepted
// as a debt that holds what the validation promises, and normalizing it again changes nothing.
func FuzzCreateDebtBody(f *testing.F) {
	cfg, err := config.FromEnv()
	if err != nil {
		f.Fatal(err)
	}
	today, err := date.Parse("2026-12-01")
	if err != nil {
		f.Fatal(err)
	}
	valid, err := json.Marshal(validRequest("TARI-2026-1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{"iupd":"X","debtor":{"type":"G","fiscalCode":"00000000000","address":{"postalCode":"1"}},"amountCents":-1}`))
	f.Add([]byte(`{"iupd":"X","nav":"301000000000000001","gpdStatus":"VALID","amountCents":1e3}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"iupd":"X"} {}`))
	top := map[string]bool{}
	for _, field := range reflect.VisibleFields(reflect.TypeFor[CreateDebtRequest]()) {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		top[name] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/v1/debts", bytes.NewReader(body)), httptest.NewRecorder())
		var req CreateDebtRequest
		if err := decodeJSON(c, &req); err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != http.StatusBadRequest {
				t.Fatalf("a body that does not decode: want a 400, got %v", err)
			}
			return
		}
		n, errs := req.validate(today, cfg.Creditor, cfg.Services)
		for _, fe := range errs {
			if name, _, _ := strings.Cut(fe.Field, "."); !top[name] || fe.Message == "" {
				t.Fatalf("an error that names no field of the request: %+v", fe)
			}
		}
		if len(errs) > 0 {
			return
		}
		if !debts.ValidIUPD(n.IUPD) || n.Amount <= 0 || n.Amount > MaxAmount || n.DueDate.IsZero() {
			t.Fatalf("accepted an invalid debt: %+v", n)
		}
		if _, err := fiscalcode.Validate(n.Debtor.FiscalCode); err != nil {
			t.Fatalf("accepted an invalid fiscal code: %v", err)
		}
		again := n
		again.Normalize()
		if again != n {
			t.Fatalf("normalizing an accepted debt again changed it")
		}
	})
}
