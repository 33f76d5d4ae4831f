package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"time"
)

// DefaultTimeout bounds a whole Send when SMTPConfig.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// SMTPConfig says how to reach the SMTP relay.
type SMTPConfig struct {
	Addr     string // host:port of the relay
	Username string // AUTH PLAIN when set; net/smtp refuses it without TLS unless the host is localhost
	Password string
	StartTLS bool          // require STARTTLS before AUTH and MAIL; the host name is verified
	Timeout  time.Duration // bound on one Send, dial included; zero means DefaultTimeout
	HeloName string        // name sent with EHLO; empty means "localhost"
}

// Sender delivers raw messages to one SMTP relay. It is safe for concurrent
// use: every Send opens its own session.
type Sender struct {
	cfg SMTPConfig
}

// NewSender returns a Sender for cfg.
func NewSender(cfg SMTPConfig) *Sender {
	return &Sender{cfg: cfg}
}

// Error is a failed Send: the step that failed and, when the server replied,
// the SMTP reply code. Its message leaves out the server's reply text, which
// often echoes the address; errors.As with *textproto.Error gets it.
type Error struct {
	Step string // "dial", "hello", "starttls", "auth", "mail", "rcpt" or "data"
	Code int    // SMTP reply code, 0 when the failure was not a reply
	Err  error
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("mail: smtp %s: server replied %d", e.Step, e.Code)
	}
	return fmt.Sprintf("mail: smtp %s: %v", e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err carries a 5xx reply, that is whether
// retrying the same message is pointless.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code/100 == 5
}

// Send delivers raw to the recipients in one SMTP session, with STARTTLS and
// AUTH PLAIN as configured. ctx and the configured Timeout bound the whole
// session. Once the server has accepted the data Send returns nil, even if
// QUIT fails, so that the message is not sent twice.
func (s *Sender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	return s.SendConfirmed(ctx, from, to, raw, nil)
}

// SendConfirmed is Send with a last word for the caller: once the whole of raw
// has been written to the server, and before the final "." that ends the data
// and makes the server take the message, it calls commit (when not nil). If
// commit returns an error, the connection is closed without that dot, so the
// server discards what it got, and SendConfirmed returns commit's error as it
// is. A caller records in commit that the message is about to be accepted: a
// crash before commit leaves nothing sent; a crash after it leaves a record
// that the message may have been sent.
//
// An error after commit returned nil (the server refused the data, or its
// answer never came) leaves it unknown whether the message was accepted,
// unless IsPermanent says the server refused it.
func (s *Sender) SendConfirmed(ctx context.Context, from string, to []string, raw []byte, commit func() error) error {
	if len(to) == 0 {
		return errors.New("mail: no recipients")
	}
	timeout := s.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(step string, err error) error {
		e := &Error{Step: step, Err: err}
		var reply *textproto.Error
		if errors.As(err, &reply) {
			e.Code = reply.Code
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			<-ctx.Done() // the connection deadline is ctx's: ctx ends now, if not already
		}
		if ctx.Err() != nil {
			e.Err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return e
	}

	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fail("dial", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fail("dial", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// On cancel, a deadline in the past unblocks any pending read or write.
	defer context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail("hello", err)
	}
	helo := s.cfg.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return fail("hello", err)
	}
	if s.cfg.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail("starttls", errors.New("server does not offer STARTTLS"))
		}
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fail("starttls", err)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)); err != nil {
			return fail("auth", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fail("mail", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fail("rcpt", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fail("data", err)
	}
	if commit != nil {
		// The data writer buffers, and writes the final dot only on Close: pushing out what it
		// holds leaves just the dot for after commit.
		if err := c.Text.W.Flush(); err != nil {
			return fail("data", err)
		}
		if err := commit(); err != nil {
			return err // the deferred Close drops the connection: no dot, no message
		}
	}
	if err := w.Close(); err != nil {
		return fail("data", err)
	}
	_ = c.Quit() // the message is accepted: a failed QUIT must not cause a resend
	return nil
}
