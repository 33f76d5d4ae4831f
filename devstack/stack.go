// Package devstack runs incasso with its fakes on one machine, for `make run`, the end-to-end
// tests and the benchmarks: the pagoPA, bank and mail simulators (pagopasim, banksim, mailsink)
// wired to a real worker and API. Its subpackages are the fakes and the test kits; nothing in
// the production binary imports them.
package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"incasso/app"
	"incasso/app/config"
	"incasso/db"
	"incasso/devstack/banksim"
	"incasso/devstack/domicilesim"
	"incasso/devstack/iosim"
	"incasso/devstack/mailsink"
	"incasso/devstack/pagopasim"
	"incasso/devstack/sendsim"
	"incasso/devstack/specs"
	"incasso/domain/keyring"
)

// Addrs are where the development stack listens (":0" ports pick free ones), and how its
// simulated bank behaves.
type Addrs struct {
	API, PagoPASim, SMTP, PECSMTP, MailUI string
	// Metrics, when set, is where /metrics listens (else the configuration's MetricsAddr).
	Metrics string
	// BankDelay is how long the bank takes to answer a file (zero: 2s); BankRejectRates
	// rejects collections at random, by reason code, reproducibly for the same BankSeed.
	BankDelay       time.Duration
	BankRejectRates map[string]float64
	BankSeed        int64
	// SENDDays is after how many days SEND perfects a notification unless scripted (zero: 7);
	// its days are the ladder's (INCASSO_LADDER_DAY) when compressed.
	SENDDays int
}

// Stack is incasso with its simulators, running in this process against a Temporal server
// and a PostgreSQL database that already exist.
type Stack struct {
	APIURL, PagoPASimURL, MailUIURL, SMTPAddr string
	MetricsURL                                string // "" without a metrics listener
	Sink                                      *mailsink.Sink
	PagoPA                                    *pagopasim.PagoPA
	Bank                                      *banksim.Bank
	// IO is the App IO simulator, on the simulators' listener: it knows the services of the
	// configuration's IO keys (incasso-dev enables TARI with config.DevIOKey).
	IO         *iosim.IO
	Registries *domicilesim.Registries // INAD and INI-PEC
	SEND       *sendsim.SEND
	Deps       *app.Deps

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// Configure makes cfg a development stack's, before app.Connect: Dev is set, so the
// development secrets the simulators expect are accepted (config.CheckProduction). This is the
// one place that sets it, for incasso-dev, the end-to-end tests and the bench. Without payload
// or IBAN keys (and their encryption not turned off) it generates them for this process, so that
// the stack encrypts as production does; incasso-dev keeps its own across runs.
func Configure(cfg *config.Config) error {
	cfg.Dev = true
	cfg.Webhooks.AllowPrivate = true // the receivers of the tests and of a laptop listen on 127.0.0.1
	for _, k := range []struct {
		ring *(*keyring.Ring)
		off  bool
	}{{&cfg.PayloadKeys, cfg.PayloadEncryptionOff}, {&cfg.SDD.IBANKeys, cfg.SDD.IBANEncryptionOff}} {
		if *k.ring != nil || k.off {
			continue
		}
		keys, err := keyring.Generate("dev")
		if err == nil {
			*k.ring, err = keyring.Parse(keys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Start migrates the database, starts the SMTP sink, the pagoPA simulator, the worker and
// the API wired to each other, and returns once they all listen. They stop when ctx is done;
// Wait returns then. The configuration's GPD, SMTP, PEC and App IO settings are replaced by the simulators'.
func Start(ctx context.Context, d *app.Deps, addrs Addrs, temporalUIURL string, log *slog.Logger) (*Stack, error) {
	if err := specs.CheckValidator(); err != nil {
		return nil, fmt.Errorf("the bank simulator validates every file it receives against its XSD: %w", err)
	}
	if err := db.Migrate(ctx, d.Config.DatabaseURL, log); err != nil {
		return nil, err
	}
	s := &Stack{Sink: mailsink.New(), Deps: d}
	smtpAddr, err := s.Sink.ListenSMTP(ctx, addrs.SMTP)
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	s.SMTPAddr = smtpAddr.String()
	// PEC goes to the same sink, on a port of its own, without TLS (a local stand-in for the
	// PEC provider); the messages tell themselves apart by their sender.
	pecAddr, err := s.Sink.ListenSMTP(ctx, addrs.PECSMTP)
	if err != nil {
		return nil, fmt.Errorf("PEC mail sink: %w", err)
	}
	listeners := make([]net.Listener, 3)
	for i, addr := range []string{addrs.API, addrs.PagoPASim, addrs.MailUI} {
		if listeners[i], err = net.Listen("tcp", addr); err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	apiLn, simLn, mailLn := listeners[0], listeners[1], listeners[2]
	s.APIURL = "http://" + apiLn.Addr().String()
	s.PagoPASimURL = "http://" + simLn.Addr().String()
	s.MailUIURL = "http://" + mailLn.Addr().String()

	cfg := &d.Config
	cfg.GPDURL = s.PagoPASimURL + pagopasim.GPDBasePath
	cfg.GPDReceiptsURL = s.PagoPASimURL + pagopasim.ReceiptsBasePath
	cfg.FdR.URL, cfg.FdR.Key = s.PagoPASimURL+pagopasim.FdRBasePath, cfg.GPDKey
	// The sink speaks plain SMTP on 127.0.0.1: STARTTLS, on by default, is turned off here.
	cfg.SMTPAddr, cfg.SMTPUser, cfg.SMTPPassword, cfg.SMTPStartTLS = s.SMTPAddr, "", "", false
	cfg.PECSMTPAddr, cfg.PECSMTPUser, cfg.PECSMTPPassword, cfg.PECStartTLS = pecAddr.String(), "", "", false
	s.PagoPA = pagopasim.NewPagoPA(cfg.GPDKey, s.APIURL+"/pagopa/paForNode", cfg.NodeKey, cfg.Creditor.BrokerID, cfg.Creditor.StationID)
	// The bank shares the simulators' listener, under /bank/ and /sim/bank/.
	cfg.SDD.BankURL = s.PagoPASimURL
	s.Bank = banksim.New(banksim.Config{Delay: addrs.BankDelay, Seed: addrs.BankSeed, RejectRates: addrs.BankRejectRates, APIKey: cfg.SDD.BankKey,
		Flows: flowCredits(s.PagoPA), Logger: log.With("component", "banksim")})
	cfg.IO.URL = s.PagoPASimURL + iosim.BasePath
	ioServices := map[string]string{}
	for service, key := range cfg.IO.Keys {
		ioServices[key] = service
	}
	s.IO = iosim.New(ioServices)
	sims := http.NewServeMux()
	sims.Handle("/", s.PagoPA.Handler())
	sims.Handle("/io/", s.IO.Handler())
	sims.Handle("/sim/io/", s.IO.Handler())
	sims.Handle("/bank/", s.Bank.Handler())
	sims.Handle("/sim/bank/", s.Bank.Handler())
	s.citizenSims(cfg, sims, addrs.SENDDays)

	if addrs.Metrics != "" {
		cfg.MetricsAddr = addrs.Metrics
	}
	metricsAddr, err := app.ServeMetrics(ctx, d)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return nil, err
	}
	if metricsAddr != "" {
		s.MetricsURL = "http://" + metricsAddr + "/metrics"
	}
	s.run(func() error { return app.Serve(ctx, mailLn, s.Sink.Handler()) })
	s.run(func() error { return app.Serve(ctx, simLn, sims) })
	s.run(func() error { return app.RunWorker(ctx, d) })
	s.run(func() error { return app.RunAPI(ctx, d, apiLn, temporalUIURL) })
	return s, nil
}

// Development credentials of the simulated INAD, INI-PEC and SEND.
const (
	devINADToken       = "dev-inad-voucher"
	devINIPECAssertion = "dev-inipec-assertion"
	devSENDKey         = "dev-send-key"
)

// citizenSims mounts the simulated INAD, INI-PEC (under their base paths) and SEND (its B2B
// paths, /delivery... and /sim/send/) on the simulators' listener and points cfg at them.
func (s *Stack) citizenSims(cfg *config.Config, sims *http.ServeMux, sendDays int) {
	s.Registries = domicilesim.New(devINADToken, devINIPECAssertion)
	s.SEND = sendsim.New(sendsim.Config{APIKey: devSENDKey, Day: cfg.LadderDay, DefaultDays: sendDays})
	for _, p := range []string{domicilesim.INADBasePath + "/", domicilesim.INIPECBasePath + "/", "/sim/domiciles"} {
		sims.Handle(p, s.Registries.Handler())
	}
	for _, p := range []string{"/delivery/", "/delivery-push/", "/sim/send/"} {
		sims.Handle(p, s.SEND.Handler())
	}
	c := &cfg.Citizen
	c.INADURL, c.INADToken = s.PagoPASimURL+domicilesim.INADBasePath, devINADToken
	c.INIPECURL, c.INIPECClientID, c.INIPECAssertion = s.PagoPASimURL+domicilesim.INIPECBasePath, "incasso-dev", devINIPECAssertion
	c.SENDURL, c.SENDKey = s.PagoPASimURL, devSENDKey
}

func (s *Stack) run(fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	}()
}

// Wait blocks until every component has stopped and returns the first error any reported.
func (s *Stack) Wait() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	return nil
}

// flowCredits are the credits of the flows the pagoPA simulator published: each flow's total,
// as its latest revision reports it (a revision corrects the report, not the transfer).
func flowCredits(p *pagopasim.PagoPA) func() []banksim.Credit {
	return func() []banksim.Credit {
		var out []banksim.Credit
		index := map[string]int{}
		for _, f := range p.Flows() { // oldest first: a later revision replaces the earlier
			if i, ok := index[f.FlowID]; ok {
				out[i].AmountCents = f.TotalCents
				continue
			}
			index[f.FlowID] = len(out)
			out = append(out, banksim.Credit{FlowID: f.FlowID, AmountCents: f.TotalCents})
		}
		return out
	}
}
