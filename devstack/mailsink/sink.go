// Package mailsink is an SMTP sink for development and tests: it accepts
// every message, keeps it in memory and shows it in a small web UI.
//
// It is not meant for production: it authenticates anybody and has no TLS.
package mailsink

import (
	"bytes"
	"context"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MaxMessageBytes is the largest message the sink accepts.
const MaxMessageBytes = 25 << 20

// Message is a message received by the sink. Its slices are shared and must
// not be modified.
type Message struct {
	ID       int       // 1 for the first message received, then 2, ...
	From     string    // envelope sender (MAIL FROM)
	To       []string  // envelope recipients (RCPT TO)
	Subject  string    // decoded Subject header
	Received time.Time // when the message was accepted
	Raw      []byte    // the message exactly as received
}

// Sink stores the messages it receives. It is safe for concurrent use.
type Sink struct {
	// RejectRecipient, when set, is asked about every RCPT TO; returning
	// true rejects that recipient with a permanent 550 reply. It lets tests
	// exercise failures. Set it before ListenSMTP and do not change it after.
	RejectRecipient func(addr string) bool

	mu        sync.Mutex
	msgs      []Message
	nextID    int
	discarded int
	arrived   chan struct{} // closed and replaced whenever a message arrives
	conns     map[net.Conn]struct{}
	dropUntil time.Time // connections are dropped until then (DropConnections)
	dropped   int
}

// New returns an empty Sink.
func New() *Sink {
	return &Sink{nextID: 1, arrived: make(chan struct{}), conns: map[net.Conn]struct{}{}}
}

// ListenSMTP serves SMTP on addr ("127.0.0.1:0" picks a free port) until ctx
// is done, and returns the address it listens on. Any AUTH PLAIN
// credentials are accepted, as is no authentication at all.
func (s *Sink) ListenSMTP(ctx context.Context, addr string) (net.Addr, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	srv.Domain = "mailsink"
	srv.MaxMessageBytes = MaxMessageBytes
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(os.Stderr, "mailsink: ", log.LstdFlags)
	go func() { _ = srv.Serve(&dropListener{Listener: l, sink: s}) }()
	context.AfterFunc(ctx, func() {
		_ = srv.Close()
		_ = l.Close() // in case Serve had not registered it yet
	})
	return l.Addr(), nil
}

// Messages returns the messages received so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Discarded returns how many messages the sink got only in part and threw
// away: the client went away before the "." that ends the data, or the message
// was too large. Such a message was never accepted and is not in Messages.
func (s *Sink) Discarded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discarded
}

// message returns the message with the given ID.
func (s *Sink) message(id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.msgs, id, func(m Message, id int) int { return m.ID - id })
	if !found {
		return Message{}, false
	}
	return s.msgs[i], true
}

// clear forgets all messages. IDs keep increasing.
func (s *Sink) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
}

// WaitFor returns the oldest message, already received or yet to come, for
// which pred is true. It gives up with ctx's error when ctx is done.
func (s *Sink) WaitFor(ctx context.Context, pred func(Message) bool) (Message, error) {
	lastID := 0 // IDs up to lastID have been checked already
	for {
		s.mu.Lock()
		msgs, arrived := slices.Clone(s.msgs), s.arrived
		s.mu.Unlock()
		for _, m := range msgs {
			if m.ID <= lastID {
				continue
			}
			if pred(m) {
				return m, nil
			}
			lastID = m.ID
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

func (s *Sink) add(from string, to []string, raw []byte) {
	m := Message{From: from, To: to, Subject: subject(raw), Received: time.Now(), Raw: raw}
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = s.nextID
	s.nextID++
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// subject decodes the Subject header of raw, or returns it as it is when it
// cannot be decoded.
func subject(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return decodeHeader(msg.Header.Get("Subject"))
}

func decodeHeader(v string) string {
	if dec, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return dec
	}
	return v
}

// session is one SMTP connection.
type session struct {
	sink *Sink
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.sink.RejectRecipient != nil && s.sink.RejectRecipient(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Recipient rejected by mailsink"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	// go-smtp enforces MaxMessageBytes, and reports a connection lost before the final dot as
	// io.ErrUnexpectedEOF: either way the message is not accepted.
	raw, err := io.ReadAll(r)
	if err != nil {
		s.sink.mu.Lock()
		s.sink.discarded++
		s.sink.mu.Unlock()
		return err
	}
	s.sink.add(s.from, s.to, raw)
	return nil
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }
