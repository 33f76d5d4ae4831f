package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/websocket"

	"incasso/devstack/pagopasim"
	"incasso/workflows"
)

// TestConsoleInBrowser drives the web console in headless Chromium over the Chrome DevTools
// Protocol: it types the API key, uploads the sample campaign file, launches it at 200 debts
// a second, watches the progress bar reach 100%, has three debtors pay and takes a screenshot
// (kept in the test's temp dir; INCASSO_UPDATE_SCREENSHOT=1 also copies it to
// testdata/console.png).
func TestConsoleInBrowser(t *testing.T) {
	chromium := findChromium(t)
	began := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }
	e := start(t)
	step("stack up")
	ctx := context.Background()
	br := startChromium(t, chromium)
	p := br.newPage(t, 1280, 900)
	base := e.stack.APIURL

	// The console sends whoever has no session to the login page.
	p.navigate(t, base+"/console/")
	p.waitFor(t, `location.pathname === "/console/login" && document.readyState === "complete"`, 10*time.Second)
	p.typeText(t, "#chiave", e.apiKey)
	p.click(t, "#accedi")
	p.waitFor(t, `location.pathname === "/console/campagne" && document.readyState === "complete"`, 10*time.Second)
	require.Contains(t, p.text(t, "body"), "Nessuna campagna finora")
	step("logged in")

	// A file with mistakes: nothing is imported, and the report says why, in Italian.
	bad := filepath.Join(t.TempDir(), "errori.csv")
	require.NoError(t, os.WriteFile(bad, []byte("iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale\n"+
		"ERR-1;TARI;F;RSSMRC40A01H501X;Marco Rossi;marco.rossi@example.it;;90,00;31/02/2027;TARI 2026\n"+
		"ERR-1;TARI;F;RSSMRC40A01H501M;Marco Rossi;marco.rossi@example.it;;novanta;31/03/2027;TARI 2026\n"), 0o644))
	p.click(t, "#nuova")
	p.waitFor(t, `location.pathname === "/console/campagne/nuova" && document.readyState === "complete"`, 10*time.Second)
	p.typeText(t, "#nome", "TARI 2026 - errori")
	p.setFiles(t, "#file", bad)
	p.click(t, "#importa")
	p.waitFor(t, `!!document.querySelector("#rapporto")`, 30*time.Second)
	report := p.text(t, "#rapporto")
	for _, want := range []string{"codice fiscale non valido", "non è una data del calendario", "stesso iupd della riga 2", "non è un importo in euro"} {
		require.Contains(t, report, want)
	}
	require.NotContains(t, report, "must")
	step("an invalid file refused with an Italian report")

	// A new campaign from the sample file (1,000 rows), only the valid rows.
	p.navigate(t, base+"/console/campagne")
	p.waitFor(t, `location.pathname === "/console/campagne" && document.readyState === "complete"`, 10*time.Second)
	p.click(t, "#nuova")
	p.waitFor(t, `location.pathname === "/console/campagne/nuova" && document.readyState === "complete"`, 10*time.Second)
	p.typeText(t, "#nome", "TARI 2026 - saldo")
	p.setFiles(t, "#file", sampleCampaignFile(t))
	p.click(t, "#validOnly")
	p.click(t, "#importa")
	p.waitFor(t, `/^\/console\/campagne\/\d+$/.test(location.pathname) && !!document.querySelector("#avvia")`, 60*time.Second)
	require.Contains(t, p.text(t, "#esito"), "Campagna importata")
	step("imported")
	rows := p.eval(t, `document.querySelector("#bar-started").max`).(float64)
	require.GreaterOrEqual(t, rows, 100.0)
	id := regexp.MustCompile(`\d+$`).FindString(p.eval(t, "location.pathname").(string))

	// Launch at 200 debts a second; the page polls GET /v1/campaigns/{id} with the session.
	p.eval(t, `document.querySelector("#rate").value = ""`) // then typed
	p.typeText(t, "#rate", "200")
	p.click(t, "#avvia")
	p.waitFor(t, `(() => { const b = document.querySelector("#bar-started"); return !!b && b.value > 0 && b.value < b.max; })()`, 30*time.Second)
	step("progress bar moving")
	p.waitFor(t, `(() => { const b = document.querySelector("#bar-started"); return !!b && b.value === b.max; })()`, 3*time.Minute)
	step("progress bar at 100%")
	p.waitFor(t, `document.querySelector("#stato").textContent === "Completata"`, time.Minute)
	step("campaign completed")
	n := dots(int64(rows))
	require.Equal(t, "Debiti avviati: "+n+" su "+n+" righe (100%)", p.text(t, `label[for="bar-started"]`))
	polls := br.responses(fmt.Sprintf("/v1/campaigns/%s", id))
	require.GreaterOrEqual(t, polls, 3, "the page polled the campaign's JSON with its session")

	// Three debtors pay; the page shows it, in the bar and in the chart.
	iupds := p.eval(t, `Array.from(document.querySelectorAll("#debiti tbody code")).slice(0, 3).map(c => c.textContent)`).([]any)
	require.Len(t, iupds, 3)
	for _, iupd := range iupds {
		d := e.waitStatus(t, iupd.(string), workflows.StatusIssued)
		_, err := e.stack.PagoPA.Pay(ctx, pagopasim.Payment{NAV: d.NoticeNumber})
		require.NoError(t, err)
		e.waitStatus(t, iupd.(string), workflows.StatusPaid)
	}
	step("3 debts paid")
	p.navigate(t, base+"/console/campagne/"+id)
	p.waitFor(t, `document.readyState === "complete" && document.querySelector("#bar-paid").value === 3`, 10*time.Second)
	require.Greater(t, p.eval(t, `document.querySelectorAll("#grafico polyline.collected, #grafico circle").length`).(float64), 1.0)
	require.NotEqual(t, "0,00", p.text(t, `[data-field="amounts.collectedCents"]`))
	for _, problem := range br.problems() { // only the refused file's page answers 422, on purpose
		if !strings.Contains(problem, "status of 422") || !strings.Contains(problem, "/console/campagne/nuova") {
			t.Errorf("the browser reported an error (scripts, CSP, failed loads): %s", problem)
		}
	}

	shot := filepath.Join(t.TempDir(), "console.png")
	p.screenshot(t, shot)
	t.Logf("screenshot: %s", shot)
	if os.Getenv("INCASSO_UPDATE_SCREENSHOT") != "" {
		data, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(repoRoot(), "e2e", "testdata"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(repoRoot(), "e2e", "testdata", "console.png"), data, 0o644))
	}

	// Logging out ends the session: the console is closed again.
	p.click(t, "#esci")
	p.waitFor(t, `location.pathname === "/console/login"`, 10*time.Second)
	p.navigate(t, base+"/console/campagne/"+id)
	p.waitFor(t, `location.pathname === "/console/login"`, 10*time.Second)
}

func dots(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return s
}

// sampleCampaignFile is the sample campaign of the repository, or a small one written here
// when it is missing.
func sampleCampaignFile(t *testing.T) string {
	path := filepath.Join(repoRoot(), "docs", "examples", "campagna-tari-2026.csv")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	t.Logf("%s is missing: using a generated file of 300 rows", path)
	path = filepath.Join(t.TempDir(), "campagna.csv")
	require.NoError(t, os.WriteFile(path, []byte(campaignCSV(300)), 0o644))
	return path
}

// findChromium returns Chromium's path, or skips the test (fails it under INCASSO_REQUIRE_E2E).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("INCASSO_REQUIRE_E2E") != "" {
		t.Fatal("Chromium is not installed (Debian: apt-get install chromium, or make test as root)")
	}
	t.Skip("browser test skipped: Chromium is not installed (Debian: apt-get install chromium)")
	return ""
}

// --- A small Chrome DevTools Protocol client ---

// cdpBrowser is a headless Chromium driven over one DevTools websocket, pages attached to it
// as flat sessions.
type cdpBrowser struct {
	ws *websocket.Conn

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]chan cdpMessage
	errs     []string       // exceptions, console errors, failed loads
	statuses map[string]int // URL path -> responses with status 200
	closed   error
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// startChromium starts headless Chromium with its own profile and connects to it; both end
// with the test.
func startChromium(t *testing.T, bin string) *cdpBrowser {
	t.Helper()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-port=0",
		"--remote-allow-origins=http://127.0.0.1", // the websocket client's Origin
		"--lang=it-IT", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers end with it
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})

	found := make(chan string, 1)
	var tail []string
	var tailMu sync.Mutex
	go func() { // read stderr to its end, so that Chromium never blocks on it
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := devtoolsURL.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			tailMu.Lock()
			tail = append(tail[max(0, len(tail)-20):], line)
			tailMu.Unlock()
		}
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-time.After(30 * time.Second):
		tailMu.Lock()
		defer tailMu.Unlock()
		t.Fatalf("Chromium did not print its DevTools URL within 30 s; stderr:\n%s", strings.Join(tail, "\n"))
	}

	cfg, err := websocket.NewConfig(wsURL, "http://127.0.0.1")
	require.NoError(t, err)
	ws, err := websocket.DialConfig(cfg)
	require.NoError(t, err, "connect to %s", wsURL)
	ws.MaxPayloadBytes = 64 << 20 // screenshots
	b := &cdpBrowser{ws: ws, pending: map[int64]chan cdpMessage{}, statuses: map[string]int{}}
	go b.read()
	t.Cleanup(func() {
		_, _ = b.call(context.Background(), "", "Browser.close", nil)
		_ = ws.Close()
	})
	return b
}

func (b *cdpBrowser) read() {
	for {
		var m cdpMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			b.mu.Lock()
			b.closed = err
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.event(m)
	}
}

// event keeps what the tests check: errors the page reported and the responses it received.
func (b *cdpBrowser) event(m cdpMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m.Method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(m.Params, &p)
		b.errs = append(b.errs, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			b.errs = append(b.errs, "console: "+p.Entry.Text+" "+p.Entry.URL)
		}
	case "Network.responseReceived":
		var p struct {
			Response struct {
				URL    string `json:"url"`
				Status int    `json:"status"`
			} `json:"response"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if u, err := url.Parse(p.Response.URL); err == nil && p.Response.Status == 200 {
			b.statuses[u.Path]++
		}
	}
}

// problems are the errors the pages reported so far.
func (b *cdpBrowser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// responses counts the 200 responses the pages received for a path.
func (b *cdpBrowser) responses(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statuses[path]
}

// call sends a command (to the page of session, or to the browser if "") and waits for its result.
func (b *cdpBrowser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	if params == nil {
		raw = []byte("{}")
	}
	b.mu.Lock()
	if b.closed != nil {
		b.mu.Unlock()
		return nil, b.closed
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	if err := websocket.JSON.Send(b.ws, cdpMessage{ID: id, Method: method, Params: raw, SessionID: session}); err != nil {
		return nil, err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, errors.New("the DevTools connection closed")
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cdpPage is a tab.
type cdpPage struct {
	b       *cdpBrowser
	session string
}

// newPage opens a tab of the given viewport and attaches to it.
func (b *cdpBrowser) newPage(t *testing.T, width, height int) *cdpPage {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p := &cdpPage{b: b, session: attached.SessionID}
	for _, domain := range []string{"Page", "Runtime", "Log", "Network", "DOM"} {
		p.do(t, domain+".enable", nil, nil)
	}
	p.do(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	return p
}

func (b *cdpBrowser) must(t *testing.T, session, method string, params, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.call(ctx, session, method, params)
	require.NoError(t, err, method)
	if out != nil {
		require.NoError(t, json.Unmarshal(res, out), method)
	}
}

func (p *cdpPage) do(t *testing.T, method string, params, out any) {
	t.Helper()
	p.b.must(t, p.session, method, params, out)
}

func (p *cdpPage) navigate(t *testing.T, u string) {
	t.Helper()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	p.do(t, "Page.navigate", map[string]any{"url": u}, &res)
	require.Empty(t, res.ErrorText, "navigate to %s", u)
}

// eval evaluates a JavaScript expression in the page and returns its value (JSON types).
func (p *cdpPage) eval(t *testing.T, expr string) any {
	t.Helper()
	v, err := p.tryEval(expr)
	require.NoError(t, err, expr)
	return v
}

func (p *cdpPage) tryEval(expr string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return nil, err
	}
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, errors.New(res.ExceptionDetails.Text)
	}
	return res.Result.Value, nil
}

// waitFor polls a JavaScript condition until it is true; errors (a page being replaced) count
// as false.
func (p *cdpPage) waitFor(t *testing.T, cond string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last any
	var lastErr error
	for time.Now().Before(deadline) {
		v, err := p.tryEval(cond)
		if err == nil && v == true {
			return
		}
		last, lastErr = v, err
		time.Sleep(100 * time.Millisecond)
	}
	url, _ := p.tryEval("location.href")
	body, _ := p.tryEval(`document.body ? document.body.innerText.slice(0, 2000) : ""`)
	t.Fatalf("waited %s for %s (last %v, %v) at %v; the page says:\n%v\nbrowser problems: %v", timeout, cond, last, lastErr, url, body, p.b.problems())
}

func (p *cdpPage) text(t *testing.T, selector string) string {
	t.Helper()
	v := p.eval(t, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : null; })()`, selector))
	require.NotNil(t, v, "no %s in the page", selector)
	return v.(string)
}

// click clicks the middle of the element with the mouse, as a person would.
func (p *cdpPage) click(t *testing.T, selector string) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf(`!!document.querySelector(%q)`, selector), 10*time.Second)
	pos := p.eval(t, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, selector)).([]any)
	x, y := pos[0].(float64), pos[1].(float64)
	p.do(t, "Input.dispatchMouseEvent", map[string]any{"type": "mouseMoved", "x": x, "y": y}, nil)
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		p.do(t, "Input.dispatchMouseEvent", map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}, nil)
	}
}

// typeText clicks into the field and types text key by key.
func (p *cdpPage) typeText(t *testing.T, selector, text string) {
	t.Helper()
	p.click(t, selector)
	for _, r := range text {
		s := string(r)
		p.do(t, "Input.dispatchKeyEvent", map[string]any{"type": "keyDown", "key": s, "text": s, "unmodifiedText": s}, nil)
		p.do(t, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": s}, nil)
	}
	p.waitFor(t, fmt.Sprintf(`document.querySelector(%q).value.endsWith(%q)`, selector, text), 5*time.Second)
}

// setFiles chooses files in a file input, as the file dialog would.
func (p *cdpPage) setFiles(t *testing.T, selector string, files ...string) {
	t.Helper()
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		} `json:"root"`
	}
	p.do(t, "DOM.getDocument", map[string]any{"depth": 0}, &doc)
	var node struct {
		NodeID int `json:"nodeId"`
	}
	p.do(t, "DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": selector}, &node)
	require.NotZero(t, node.NodeID, "no %s in the page", selector)
	p.do(t, "DOM.setFileInputFiles", map[string]any{"nodeId": node.NodeID, "files": files}, nil)
}

// screenshot saves the whole page as PNG.
func (p *cdpPage) screenshot(t *testing.T, path string) {
	t.Helper()
	var m struct {
		CSSContentSize struct {
			Width, Height float64
		} `json:"cssContentSize"`
	}
	p.do(t, "Page.getLayoutMetrics", nil, &m)
	var shot struct {
		Data string `json:"data"`
	}
	p.do(t, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSContentSize.Width, "height": m.CSSContentSize.Height, "scale": 1}}, &shot)
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "\x89PNG"), "not a PNG")
	require.NoError(t, os.WriteFile(path, data, 0o644))
}
