package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"incasso/clients/incassoapi"
)

// Exit codes of `incasso campaign`, for scripts (documented in README.md).
const (
	exitOK       = 0  // done; status --follow: the campaign COMPLETED
	exitFailed   = 1  // the API could not be reached or answered an error (401, 404, 409, 5xx...)
	exitRejected = 2  // 422: the file (or the rate) was refused; the report is printed
	exitStopped  = 3  // status --follow: the campaign ended CANCELLED or WITHDRAWN
	exitUsage    = 64 // wrong arguments, or no API key
)

const campaignUsage = `usage: incasso campaign <command>

commands:
  import FILE --name NAME [--valid-only]   import a CSV (or .json) file as a new campaign; prints its id
  launch ID [--rate N]                     launch the campaign at N debts per second (1-1000)
  status ID [--follow] [--json]            show the campaign's progress; --follow redraws it every
                                           second until the campaign is COMPLETED, CANCELLED or WITHDRAWN

environment:
  INCASSO_API_URL   the REST API (default http://127.0.0.1:8080)
  INCASSO_API_KEY   the API key (default: the key in .data/dev-api-key that make run created)

exit codes: 0 done (status --follow: COMPLETED), 1 request failed, 2 refused (422, report printed),
            3 status --follow: CANCELLED or WITHDRAWN, 64 usage
`

// campaignCLI talks to the REST API for `incasso campaign`, through the client generated
// from the API's contract (clients/incassoapi).
type campaignCLI struct {
	api      *incassoapi.ClientWithResponses
	stdout   io.Writer
	stderr   io.Writer
	tty      bool          // stdout is a terminal: --follow redraws one line in place
	interval time.Duration // between polls of --follow
	// giveUp is how long --follow keeps retrying while the API cannot be reached.
	giveUp time.Duration
}

// runCampaign runs `incasso campaign ARGS` and returns the exit code.
func runCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, campaignUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	key, err := apiKeyFromEnv()
	if err != nil {
		fmt.Fprintln(stderr, "incasso campaign:", err)
		return exitUsage
	}
	httpClient := &http.Client{Timeout: 10 * time.Minute} // a large import takes a while
	api, err := newAPIClient(envOr("INCASSO_API_URL", "http://127.0.0.1:8080"), key, httpClient)
	if err != nil {
		fmt.Fprintln(stderr, "incasso campaign: INCASSO_API_URL:", err)
		return exitUsage
	}
	c := &campaignCLI{
		api: api, stdout: stdout, stderr: stderr, tty: isTerminal(stdout),
		interval: time.Second, giveUp: time.Minute,
	}
	return c.run(ctx, args)
}

// newAPIClient is the generated client of the API at baseURL, sending the key with every request.
func newAPIClient(baseURL, key string, httpClient *http.Client) (*incassoapi.ClientWithResponses, error) {
	return incassoapi.NewClientWithResponses(strings.TrimRight(baseURL, "/"),
		incassoapi.WithHTTPClient(httpClient),
		incassoapi.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Accept", "application/json")
			return nil
		}))
}

// apiKeyFromEnv is INCASSO_API_KEY, else the development key `make run` keeps in the data dir.
func apiKeyFromEnv() (string, error) {
	if k := strings.TrimSpace(os.Getenv("INCASSO_API_KEY")); k != "" {
		return k, nil
	}
	path := filepath.Join(envOr("INCASSO_DATA_DIR", ".data"), "dev-api-key")
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	return "", fmt.Errorf("set INCASSO_API_KEY (no %s here either)", path)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *campaignCLI) run(ctx context.Context, args []string) int {
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("incasso campaign "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	switch cmd {
	case "import":
		name := fs.String("name", "", "the campaign's name (required)")
		validOnly := fs.Bool("valid-only", false, "import the valid rows and leave out the invalid ones, instead of refusing the file")
		pos, ok := c.parse(fs, args, "FILE")
		if !ok {
			return exitUsage
		}
		if strings.TrimSpace(*name) == "" {
			fmt.Fprintln(c.stderr, "usage: incasso campaign import FILE --name NAME [--valid-only]")
			return exitUsage
		}
		return c.importFile(ctx, pos, *name, *validOnly)
	case "launch":
		rate := fs.Int("rate", 0, "debts started per second, 1 to 1000 (default: the campaign's start rate)")
		pos, ok := c.parse(fs, args, "ID")
		if !ok {
			return exitUsage
		}
		id, ok := c.campaignID(pos)
		if !ok {
			return exitUsage
		}
		if *rate < 0 || *rate > 1000 {
			fmt.Fprintln(c.stderr, "incasso campaign launch: --rate must be from 1 to 1000")
			return exitUsage
		}
		return c.launch(ctx, id, *rate)
	case "status":
		follow := fs.Bool("follow", false, "redraw the progress every second until the campaign has finished")
		asJSON := fs.Bool("json", false, "print the API's JSON (with --follow: one line per poll)")
		pos, ok := c.parse(fs, args, "ID")
		if !ok {
			return exitUsage
		}
		id, ok := c.campaignID(pos)
		if !ok {
			return exitUsage
		}
		if *follow {
			return c.follow(ctx, id, *asJSON)
		}
		return c.status(ctx, id, *asJSON)
	default:
		fmt.Fprintf(c.stderr, "incasso campaign: unknown command %q\n\n%s", cmd, campaignUsage)
		return exitUsage
	}
}

// parse parses flags placed before or after the one positional argument, which it returns.
func (c *campaignCLI) parse(fs *flag.FlagSet, args []string, what string) (string, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false // the flag package printed why
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintf(c.stderr, "%s: want one %s, got %d arguments\n", fs.Name(), what, len(pos))
		return "", false
	}
	return pos[0], true
}

func (c *campaignCLI) campaignID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		fmt.Fprintf(c.stderr, "incasso campaign: %q is not a campaign id (a positive number)\n", s)
		return 0, false
	}
	return id, true
}

// finished reports whether a campaign will launch no more debts.
func finished(v incassoapi.Campaign) bool {
	switch v.Status {
	case incassoapi.CampaignStatusCOMPLETED, incassoapi.CampaignStatusCANCELLED, incassoapi.CampaignStatusWITHDRAWN:
		return true
	}
	return false
}

// problemView is an RFC 9457 problem as the API sends it; a refused import lists its rows
// (api.CampaignImportProblem), other 422s their fields.
type problemView struct {
	Title       string `json:"title"`
	Status      int    `json:"status"`
	Detail      string `json:"detail"`
	TotalErrors int    `json:"totalErrors"`
	Errors      []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// apiAnswer is what the generated client returns of every call: the status and the body.
type apiAnswer interface {
	StatusCode() int
	GetBody() []byte
}

// fail prints an error answer (or the lack of one: err) and returns its exit code.
func (c *campaignCLI) fail(what string, resp apiAnswer, err error) int {
	if err != nil {
		fmt.Fprintf(c.stderr, "incasso campaign %s: %v\n", what, err)
		return exitFailed
	}
	status, body := resp.StatusCode(), resp.GetBody()
	var p problemView
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &p) == nil && (p.Detail != "" || p.Title != "") {
		msg = p.Detail
		if msg == "" {
			msg = p.Title
		}
	}
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	fmt.Fprintf(c.stderr, "incasso campaign %s: %d %s: %s\n", what, status, http.StatusText(status), msg)
	if status == http.StatusUnauthorized {
		fmt.Fprintln(c.stderr, "check INCASSO_API_KEY (and INCASSO_API_URL)")
	}
	if status == http.StatusUnprocessableEntity {
		c.printReport(p)
		return exitRejected
	}
	return exitFailed
}

// printReport prints a 422's errors, one per line: row, column, message, tab-separated.
func (c *campaignCLI) printReport(p problemView) {
	if len(p.Errors) == 0 {
		return
	}
	fmt.Fprintln(c.stdout, "row\tcolumn\tmessage")
	for _, e := range p.Errors {
		col := e.Column
		if col == "" {
			col = e.Field
		}
		row := "-"
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		fmt.Fprintf(c.stdout, "%s\t%s\t%s\n", row, col, oneLine(e.Message))
	}
	if p.TotalErrors > len(p.Errors) {
		fmt.Fprintf(c.stderr, "the first %d of %d errors are listed\n", len(p.Errors), p.TotalErrors)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// importFile posts the file as the body of POST /v1/campaigns and prints the new campaign's id.
func (c *campaignCLI) importFile(ctx context.Context, path, name string, validOnly bool) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(c.stderr, "incasso campaign import:", err)
		return exitFailed
	}
	defer f.Close()
	contentType := "text/csv"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		contentType = "application/json"
	}
	params := &incassoapi.ImportCampaignParams{Name: &name, Filename: ptr(filepath.Base(path))}
	if validOnly {
		params.ValidOnly = ptr(true)
	}
	resp, err := c.api.ImportCampaignWithBodyWithResponse(ctx, params, contentType, f)
	if err != nil || resp.JSON201 == nil {
		return c.fail("import", resp, err)
	}
	created := resp.JSON201
	if created.CampaignId == nil {
		return c.fail("import", resp, errors.New("unexpected answer: no campaignId"))
	}
	id := *created.CampaignId
	fmt.Fprintln(c.stdout, id)
	fmt.Fprintf(c.stderr, "campaign %d %q imported: %d rows", id, name, created.ValidRows)
	if created.RejectedRows > 0 {
		fmt.Fprintf(c.stderr, ", %d invalid rows left out", created.RejectedRows)
	}
	fmt.Fprintf(c.stderr, "; launch it with: incasso campaign launch %d\n", id)
	return exitOK
}

func ptr[T any](v T) *T { return &v }

// launch asks the API to launch the campaign, at rate debts per second when rate > 0.
func (c *campaignCLI) launch(ctx context.Context, id int64, rate int) int {
	var resp *incassoapi.LaunchCampaignResponse
	var err error
	if rate > 0 {
		resp, err = c.api.LaunchCampaignWithResponse(ctx, id, incassoapi.LaunchRequest{Rate: &rate})
	} else { // no body: the campaign's start rate
		resp, err = c.api.LaunchCampaignWithBodyWithResponse(ctx, id, "", nil)
	}
	if err != nil || resp.JSON202 == nil {
		return c.fail("launch", resp, err)
	}
	v := resp.JSON202
	if rate == 0 {
		rate = v.StartRate
	}
	fmt.Fprintf(c.stdout, "campaign %d %q launching at %d debts/s: %s, %d/%d started\n", v.Id, v.Name, rate, v.Status, v.Started, v.Rows)
	fmt.Fprintf(c.stderr, "follow it with: incasso campaign status %d --follow\n", v.Id)
	return exitOK
}

// status prints the campaign's progress once.
func (c *campaignCLI) status(ctx context.Context, id int64, asJSON bool) int {
	resp, err := c.api.GetCampaignWithResponse(ctx, id)
	if err != nil || resp.JSON200 == nil {
		return c.fail("status", resp, err)
	}
	if asJSON {
		c.stdout.Write(append(bytes.TrimSpace(resp.Body), '\n'))
		return exitOK
	}
	v, w := resp.JSON200, c.stdout
	fmt.Fprintf(w, "campaign %d %q: %s\n", v.Id, v.Name, v.Status)
	if v.WithdrawReason != nil {
		fmt.Fprintf(w, "  withdrawn:   %s\n", *v.WithdrawReason)
	}
	fmt.Fprintf(w, "  rows:        %d (%d left out at import)\n", v.Rows, v.RejectedRows)
	fmt.Fprintf(w, "  started:     %d/%d  %s\n", v.Started, v.Rows, bar(v.Started, v.Rows, barWidth))
	fmt.Fprintf(w, "  paid:        %d/%d  %s\n", v.Debts.Paid, v.Rows, bar(v.Debts.Paid, v.Rows, barWidth))
	fmt.Fprintf(w, "  row errors:  %d\n", v.Errors)
	fmt.Fprintf(w, "  debts:       created %d, issued %d, overdue %d, paid %d, cancelled %d\n",
		v.Debts.Created, v.Debts.Issued, v.Debts.Overdue, v.Debts.Paid, v.Debts.Cancelled)
	fmt.Fprintf(w, "  amounts:     issued %s, collected %s, outstanding %s\n",
		euro(v.Amounts.IssuedCents), euro(v.Amounts.CollectedCents), euro(v.Amounts.OutstandingCents))
	return exitOK
}

// follow polls the progress every interval and draws it until the campaign has finished:
// redrawn in place on a terminal, one line per poll otherwise. It keeps trying while the API
// cannot be reached or fails (5xx), for up to giveUp.
func (c *campaignCLI) follow(ctx context.Context, id int64, asJSON bool) int {
	var failingSince time.Time
	drawn := false
	endLine := func() {
		if drawn && c.tty && !asJSON {
			fmt.Fprintln(c.stdout)
			drawn = false
		}
	}
	for {
		resp, err := c.api.GetCampaignWithResponse(ctx, id)
		switch {
		case ctx.Err() != nil:
			endLine()
			return exitFailed
		case err == nil && resp.JSON200 != nil:
			failingSince = time.Time{}
			v := *resp.JSON200
			switch {
			case asJSON:
				c.stdout.Write(append(bytes.TrimSpace(resp.Body), '\n'))
			case c.tty:
				fmt.Fprintf(c.stdout, "\r%s\x1b[K", progressLine(v))
				drawn = true
			default:
				fmt.Fprintln(c.stdout, progressLine(v))
			}
			if finished(v) {
				endLine()
				if v.Status == incassoapi.CampaignStatusCOMPLETED {
					return exitOK
				}
				return exitStopped
			}
		case err != nil || resp.StatusCode() >= 500:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) >= c.giveUp {
				endLine()
				return c.fail("status", resp, err)
			}
		default: // 401, 404...: retrying will not help
			endLine()
			return c.fail("status", resp, err)
		}
		select {
		case <-ctx.Done():
			endLine()
			return exitFailed
		case <-time.After(c.interval):
		}
	}
}

const barWidth = 20

// progressLine is one line of --follow: the debts started and paid against the rows.
func progressLine(v incassoapi.Campaign) string {
	return fmt.Sprintf("started %s %*d/%d %3d%%   paid %s %*d/%d %3d%%   %s",
		bar(v.Started, v.Rows, barWidth), digits(v.Rows), v.Started, v.Rows, percent(v.Started, v.Rows),
		bar(v.Debts.Paid, v.Rows, barWidth), digits(v.Rows), v.Debts.Paid, v.Rows, percent(v.Debts.Paid, v.Rows),
		v.Status)
}

// bar draws n of total as a bar of width cells: [#######.............].
func bar(n, total int64, width int) string {
	filled := 0
	if total > 0 {
		filled = int(min(max(n, 0), total) * int64(width) / total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

func percent(n, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(max(n, 0), total) * 100 / total
}

func digits(n int64) int { return len(strconv.FormatInt(n, 10)) }

// euro formats cents as euro with a comma: 1234.5 euro is "1234,50 €".
func euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d €", sign, cents/100, cents%100)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
