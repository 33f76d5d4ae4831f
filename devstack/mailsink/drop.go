package mailsink

import (
	"net"
	"sync"
	"time"
)

// DropConnections makes the relay go away for d: every SMTP connection open now is closed at
// once, wherever its session is (a message cut before its final dot is discarded), and every
// connection accepted until d has passed is closed before the greeting.
func (s *Sink) DropConnections(d time.Duration) {
	s.mu.Lock()
	s.dropUntil = time.Now().Add(d)
	open := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
		delete(s.conns, c)
	}
	s.dropped += len(open)
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

// Dropped returns how many connections DropConnections closed, open or new.
func (s *Sink) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// dropListener keeps the sink's open connections, and drops new ones while the sink says so.
type dropListener struct {
	net.Listener
	sink *Sink
}

func (l *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.sink
		s.mu.Lock()
		drop := time.Now().Before(s.dropUntil)
		if drop {
			s.dropped++
		} else {
			s.conns[c] = struct{}{}
		}
		s.mu.Unlock()
		if !drop {
			return &trackedConn{Conn: c, sink: s}, nil
		}
		_ = c.Close()
	}
}

// trackedConn leaves the sink's open connections when closed.
type trackedConn struct {
	net.Conn
	sink *Sink
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.sink.mu.Lock()
		delete(c.sink.conns, c.Conn)
		c.sink.mu.Unlock()
	})
	return c.Conn.Close()
}
