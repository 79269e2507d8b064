package testenv

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a server, for tests that play a network
// failure under a running program: Cut closes every connection through it and
// refuses new ones (each is accepted and closed at once, as a dropped link or
// a reset looks to the client), Restore lets connections through again. The
// address stays the same throughout, so the program needs no new settings.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{} // both ends of every open connection
	// cuts counts the connections closed by Cut or refused while cut.
	cuts int
	wg   sync.WaitGroup
}

// StartProxy listens on a free port of 127.0.0.1 and forwards each connection
// to target (host:port). It stops when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port, to give the program in place of target's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes the connections through the proxy and refuses new ones until
// Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
		p.cuts++
	}
	clear(p.conns)
}

// Restore lets connections through again after Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Cuts counts the connection ends Cut closed and the connections refused while
// cut: more than zero once the program has felt the cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve forwards one connection, unless the proxy is cut.
func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	if !p.track(c) {
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	if !p.track(up) {
		p.drop(c)
		return
	}
	var both sync.WaitGroup
	both.Go(func() { p.pipe(up, c) })
	both.Go(func() { p.pipe(c, up) })
	both.Wait()
}

// pipe copies from src to dst, then closes both: when one side goes, the
// connection is over.
func (p *Proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	p.drop(dst)
	p.drop(src)
}

// track registers an open connection end; when the proxy is cut it closes c
// instead and reports false.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		_ = c.Close()
		p.cuts++
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}
