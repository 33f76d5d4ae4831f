package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"incasso/devstack/campaigncsv"
	"incasso/devstack/pagopasim"
	"incasso/domain/date"
	"incasso/domain/instalments"
	"incasso/domain/money"
)

// iupdPrefix starts the iupd of every debt of the campaign.
const iupdPrefix = "CHAOS"

// runner runs the phases of a chaos run and keeps what the checks compare.
type runner struct {
	st  *stack
	s   settings
	log *slog.Logger

	campaignID int64
	rows       int
	faults     []fault
	samples    []sample

	// What the simulated PSP paid, by iupd: the checks compare it with the receipts.
	paid         map[string]money.Cents
	pushedTwice  []string
	neverPushed  []string
	planned      []string
	payFailures  int
	planFailures int
}

// debt is a debt of the campaign as the database has it.
type debt struct {
	iupd, nav, status string
	amount            money.Cents
}

// campaign imports the campaign file and launches it at the full rate while the storm runs,
// until every notice is issued (or 60% of the run's time has gone).
func (r *runner) campaign(ctx context.Context) error {
	path := filepath.Join(r.s.dir, "campaign.csv")
	if _, err := campaigncsv.Write(path, iupdPrefix, r.s.debts); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var imported struct {
		CampaignID int64 `json:"campaignId"`
		ValidRows  int   `json:"validRows"`
	}
	q := url.Values{"name": {"chaos"}, "filename": {"campaign.csv"}}
	if err := r.call(ctx, r.st.apiURLs[0], http.MethodPost, "/v1/campaigns?"+q.Encode(), "text/csv", f, http.StatusCreated, &imported); err != nil {
		return err
	}
	r.campaignID, r.rows = imported.CampaignID, imported.ValidRows

	sampleCtx, stopSampling := context.WithCancel(ctx)
	sm := &sampler{}
	sampled := make(chan struct{})
	go func() { defer close(sampled); sm.run(sampleCtx, r.progress) }()
	defer func() { stopSampling(); <-sampled; r.samples = sm.snapshot() }()

	launched := time.Now()
	if err := r.call(ctx, r.st.apiURLs[0], http.MethodPost, fmt.Sprintf("/v1/campaigns/%d/launch", r.campaignID), "application/json",
		strings.NewReader(`{"rate":1000}`), http.StatusAccepted, nil); err != nil {
		return err
	}
	fmt.Printf("  campaign %d: %d rows imported, launched at 1000 debts/s\n", r.campaignID, r.rows)
	steps := scenario(r.st, r.s)
	if r.s.scale { // the one kill comes when half the notices are issued
		steps[0].pause = 0
		for p := (sample{}); p.issued < r.rows/2 && ctx.Err() == nil; {
			_ = sleep(ctx, time.Second)
			p, _ = r.progress(ctx)
		}
	}
	stormed := make(chan []fault, 1)
	go func() { stormed <- storm(ctx, steps) }()

	deadline := time.Now().Add(r.s.timeout * 6 / 10)
	var p sample
	last := time.Now()
	for p.issued < r.rows && time.Now().Before(deadline) && ctx.Err() == nil {
		_ = sleep(ctx, time.Second)
		if s, err := r.progress(ctx); err == nil {
			p = s
		}
		if time.Since(last) >= 15*time.Second {
			last = time.Now()
			fmt.Printf("  ... %4.0f s: %d notices issued of %d\n", time.Since(launched).Seconds(), p.issued, r.rows)
		}
	}
	issuedIn := time.Since(launched)
	r.faults = <-stormed
	if p.issued < r.rows {
		fmt.Printf("  only %d notices of %d issued after %.0f s\n", p.issued, r.rows, issuedIn.Seconds())
	} else {
		fmt.Printf("  every notice issued %.0f s after the launch (%.1f notices/s, faults included)\n", issuedIn.Seconds(), float64(r.rows)/issuedIn.Seconds())
	}
	return nil
}

// progress counts the campaign's notices issued: its debts past CREATED.
func (r *runner) progress(ctx context.Context) (sample, error) {
	s := sample{at: time.Now()}
	err := r.st.deps.Pool.QueryRow(ctx, `SELECT count(*) FROM debt_positions WHERE campaign_id = $1 AND status <> 'CREATED'`, r.campaignID).Scan(&s.issued)
	return s, err
}

// debts returns the campaign's debts by iupd.
func (r *runner) debts(ctx context.Context) ([]debt, error) {
	rows, err := r.st.deps.Pool.Query(ctx, `SELECT iupd, coalesce(nav, ''), status, amount_cents FROM debt_positions WHERE campaign_id = $1 ORDER BY iupd`, r.campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []debt
	for rows.Next() {
		var d debt
		if err := rows.Scan(&d.iupd, &d.nav, &d.status, &d.amount); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// settle pays a tenth of the issued debts with the receipt pushed twice and a hundredth with
// a receipt never pushed, puts some in instalments (half of the mandates rejected AM04 once),
// and waits until they are all PAID or 90% of the run's time has gone.
func (r *runner) settle(ctx context.Context) error {
	r.paid = map[string]money.Cents{}
	if r.s.scale {
		return nil
	}
	all, err := r.debts(ctx)
	if err != nil {
		return err
	}
	var issued []debt
	for _, d := range all {
		if d.status == "ISSUED" {
			issued = append(issued, d)
		}
	}
	twice, never := len(issued)/10, max(len(issued)/100, 1)
	if twice+never >= len(issued) {
		return fmt.Errorf("only %d debts issued: too few to pay", len(issued))
	}
	// Plans of 3 instalments, for amounts the default table allows them (100,01 to 500,00 EUR).
	var plans []debt
	for _, d := range issued[twice+never:] {
		if fewest, most := instalments.DefaultTable.Allowed(d.amount); fewest <= 3 && most >= 3 && len(plans) < min(max(len(issued)/100, 2), 20) {
			plans = append(plans, d)
		}
	}
	start := time.Now()
	var mu sync.Mutex
	jobs := make(chan pagopasim.Payment)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				res, err := r.st.pagopa.Pay(ctx, p)
				if err != nil || (!p.Undelivered && res.Outcome != "OK") {
					mu.Lock()
					r.payFailures++
					mu.Unlock()
					r.log.Warn("payment", "nav", p.NAV, "err", err, "outcome", res.Outcome, "fault", res.FaultCode)
				}
			}
		}()
	}
	for i, d := range issued[:twice+never] {
		p := pagopasim.Payment{NAV: d.nav, Duplicates: 1}
		if i < twice {
			r.pushedTwice = append(r.pushedTwice, d.iupd)
		} else {
			p = pagopasim.Payment{NAV: d.nav, Undelivered: true}
			r.neverPushed = append(r.neverPushed, d.iupd)
		}
		r.paid[d.iupd] = d.amount
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("  %d debts paid, receipt pushed twice; %d paid, receipt never pushed (%.1f s; %d payments failed)\n",
		twice, never, time.Since(start).Seconds(), r.payFailures)

	first := time.Now().In(date.Rome).AddDate(0, 0, 5).Format("2006-01-02")
	for i, d := range plans {
		ref := fmt.Sprintf("CHAOS-MANDATE-%d", i+1)
		if i%2 == 0 {
			rule := fmt.Sprintf(`{"mandateId":%q,"code":"AM04","times":1}`, ref)
			if err := r.call(ctx, r.st.simURL, http.MethodPost, "/sim/bank/rules", "application/json", strings.NewReader(rule), http.StatusNoContent, nil); err != nil {
				return err
			}
		}
		body, _ := json.Marshal(map[string]any{"instalments": 3, "firstDueDate": first, "mandate": map[string]any{
			"debtorName": "Mario Rossi", "iban": "IT60X0542811101000000123456", "reference": ref, "signedOn": time.Now().In(date.Rome).Format("2006-01-02"),
		}})
		err := r.call(ctx, r.st.apiURLs[len(r.st.apiURLs)-1], http.MethodPost, "/v1/debts/"+d.iupd+"/instalment-plan", "application/json", bytes.NewReader(body), http.StatusCreated, nil)
		if errors.Is(err, errStillApplying) { // the API's 202: the plan is made later, the debt says when
			err = r.waitInstalments(ctx, d.iupd, time.Minute)
		}
		if err != nil {
			r.planFailures++
			r.log.Warn("instalment plan", "iupd", d.iupd, "err", err)
			continue
		}
		r.planned = append(r.planned, d.iupd)
	}
	fmt.Printf("  %d debts put in 3 instalments by SDD, %d of the mandates rejected AM04 once (%d refused)\n", len(r.planned), (len(plans)+1)/2, r.planFailures)

	// Wait for the receipts (the recovery job finds those never pushed) and the plans' ends.
	deadline := time.Now().Add(r.s.timeout * 3 / 10)
	waiting := append(append(append([]string(nil), r.pushedTwice...), r.neverPushed...), r.planned...)
	var open int
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err := r.st.deps.Pool.QueryRow(ctx, `SELECT count(*) FROM debt_positions WHERE iupd = ANY($1) AND status <> 'PAID'`, waiting).Scan(&open); err == nil && open == 0 {
			break
		}
		_ = sleep(ctx, time.Second)
	}
	fmt.Printf("  %d of %d paid and planned debts PAID %.0f s after the first payment\n", len(waiting)-open, len(waiting), time.Since(start).Seconds())
	return nil
}

// waitInstalments waits up to wait for the debt to be in instalments.
func (r *runner) waitInstalments(ctx context.Context, iupd string, wait time.Duration) error {
	for end := time.Now().Add(wait); time.Now().Before(end); {
		var planned bool
		if err := r.st.deps.Pool.QueryRow(ctx, `SELECT in_instalments FROM debt_positions WHERE iupd = $1`, iupd).Scan(&planned); err == nil && planned {
			return nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: no instalment plan %s after the API's 202", iupd, wait)
}

// errStillApplying is call's error for a 202 Accepted when want is another status: the API
// accepted an update that was still being applied when it answered.
var errStillApplying = errors.New("202 Accepted: still being applied")

// call sends a request with the API key (to the simulators too, which ignore it) and decodes
// the answer into out; a status other than want is an error (errStillApplying for a 202).
func (r *runner) call(ctx context.Context, base, method, path, contentType string, body io.Reader, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.st.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusAccepted && want != http.StatusAccepted {
		return fmt.Errorf("%s %s: %w", method, path, errStillApplying)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
