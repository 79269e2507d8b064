package sandbox

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// pageOnly is a sandbox with only what the page's routes below need: the test
// server (files) and the clock. The bot and Redis are not started.
func pageOnly(t *testing.T, loopback bool) (*Sandbox, *httptest.Server) {
	t.Helper()
	s := &Sandbox{tg: telegramtest.NewServer(t), clock: newClock(day), closing: make(chan struct{})}
	srv := httptest.NewServer(s.routes(loopback))
	t.Cleanup(srv.Close)
	return s, srv
}

// TestCrossSiteRequestsRefused: a request that changes something (here a move
// of the clock) is refused with 403 when a browser says another site sent it;
// from the page itself, or from a client that is no browser, it goes through.
// A Host that is not this machine is refused whatever the method, when the
// page listens on loopback: a DNS-rebinding site's requests. No refused
// request moves the clock.
func TestCrossSiteRequestsRefused(t *testing.T) {
	s, srv := pageOnly(t, true)
	self := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		host   string // "" is the server's own address
		want   int
	}{
		{name: "the page's own fetch", method: "POST", path: "/api/clock",
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": srv.URL, "Content-Type": "application/json"}, want: 200},
		{name: "a client that is no browser", method: "POST", path: "/api/clock", header: map[string]string{"Content-Type": "application/json"}, want: 200},
		{name: "an older browser, same origin", method: "POST", path: "/api/clock", header: map[string]string{"Origin": srv.URL}, want: 200},
		{name: "another site's form", method: "POST", path: "/api/clock",
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "Content-Type": "text/plain"}, want: 403},
		{name: "another port of this machine", method: "POST", path: "/api/clock",
			header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, want: 403},
		{name: "an older browser, another site", method: "POST", path: "/api/clock", header: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "an upload from another site", method: "POST", path: "/api/upload",
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "multipart/form-data; boundary=x"}, want: 403},
		{name: "a sandboxed frame", method: "POST", path: "/api/send", header: map[string]string{"Origin": "null"}, want: 403},
		{name: "reading the page from another site", method: "GET", path: "/", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "DNS rebinding, reading", method: "GET", path: "/", host: "evil.example:8090",
			header: map[string]string{"Sec-Fetch-Site": "same-origin"}, want: 403},
		{name: "DNS rebinding, writing", method: "POST", path: "/api/clock", host: "evil.example:8090",
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example:8090"}, want: 403},
		{name: "localhost", method: "GET", path: "/", host: "localhost" + self[strings.LastIndex(self, ":"):], want: 200},
		{name: "IPv6 loopback", method: "GET", path: "/", host: "[::1]:8090", want: 200},
	}
	moved := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.clock.Now()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(`{"step":"hour"}`))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s = %d %q, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options = %q, want DENY", got)
			}
			if step := s.clock.Now().Sub(before); tt.want == 403 && step >= time.Hour {
				t.Errorf("a refused request moved the clock by %v", step)
			}
			if tt.method == "POST" && tt.path == "/api/clock" && tt.want == 200 {
				moved++
			}
		})
	}
	if moved == 0 {
		t.Error("no request moved the clock: the allowed cases test nothing")
	}
}

// TestNotLoopbackTakesAnyHost: with -addr on the network the page answers by
// whatever name it is reached (a LAN address, a host name); other sites'
// requests are still refused.
func TestNotLoopbackTakesAnyHost(t *testing.T) {
	_, srv := pageOnly(t, false)
	for _, tc := range []struct {
		site string
		want int
	}{{"same-origin", 200}, {"cross-site", 403}} {
		req, _ := http.NewRequest("POST", srv.URL+"/api/clock", strings.NewReader(`{"step":"hour"}`))
		req.Host = "sandbox.lan:8090"
		req.Header.Set("Sec-Fetch-Site", tc.site)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Sec-Fetch-Site %s by a LAN name = %d, want %d", tc.site, resp.StatusCode, tc.want)
		}
	}
}

// TestFilesServedAsAttachments: uploaded files never show as pages of the
// sandbox's origin: HTML, SVG and the rest come as attachments of a type the
// browser does not render, even when the page asks for them in place; only a
// raster image (the bot's chart) shows in place, as the page's <img> asks.
func TestFilesServedAsAttachments(t *testing.T) {
	s, srv := pageOnly(t, true)
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	u := s.tg.User("Lan")
	files := map[string][]byte{
		"x.html":       []byte("<!doctype html><script>fetch('/api/send',{method:'POST'})</script>"),
		"x.svg":        []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"roster.csv":   []byte("Họ và tên\nLan\n"),
		"chart.png":    pngData.Bytes(),
		"fake.png":     []byte("<html><script>alert(1)</script></html>"),
		"no-extension": pngData.Bytes(),
	}
	for name, data := range files {
		u.SendDocument(name, data, "")
	}
	ids := map[string]string{}
	for _, m := range s.tg.Transcript(u.ID()) {
		ids[m.FileName] = m.DocumentFileID
	}
	tests := []struct {
		file       string
		inline     bool
		wantType   string
		attachment bool
	}{
		{file: "x.html", wantType: "application/octet-stream", attachment: true},
		{file: "x.html", inline: true, wantType: "application/octet-stream", attachment: true},
		{file: "x.svg", inline: true, wantType: "application/octet-stream", attachment: true},
		{file: "roster.csv", wantType: "application/octet-stream", attachment: true},
		{file: "fake.png", inline: true, wantType: "application/octet-stream", attachment: true},
		{file: "chart.png", wantType: "application/octet-stream", attachment: true},
		{file: "chart.png", inline: true, wantType: "image/png"},
		{file: "no-extension", inline: true, wantType: "image/png"},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.inline {
			name += " inline"
		}
		t.Run(name, func(t *testing.T) {
			id := ids[tt.file]
			if id == "" {
				t.Fatalf("%s was not stored", tt.file)
			}
			url := srv.URL + "/api/file?id=" + id
			if tt.inline {
				url += "&inline=1"
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, files[tt.file]) {
				t.Fatalf("GET = %d, %d bytes, want 200 and the file", resp.StatusCode, len(body))
			}
			h := resp.Header
			if got := h.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			cd := h.Get("Content-Disposition")
			if got := strings.HasPrefix(cd, "attachment"); got != tt.attachment {
				t.Errorf("Content-Disposition = %q, want attachment %v", cd, tt.attachment)
			}
			if tt.attachment && !strings.Contains(cd, tt.file) {
				t.Errorf("Content-Disposition = %q does not name %s", cd, tt.file)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "sandbox") {
				t.Errorf("Content-Security-Policy = %q, want sandbox", got)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/api/file?id=nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown file = %d, want 404", resp.StatusCode)
	}
}

// TestHelpWarnsOfNoLogin: `cellbot sandbox -h` says the page has no login and
// that an address other than loopback exposes it.
func TestHelpWarnsOfNoLogin(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseFlags(-h) = %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, want := range []string{"no login", "loopback", "-addr"} {
		if !strings.Contains(help, want) {
			t.Errorf("help does not say %q:\n%s", want, help)
		}
	}
}

// TestLoopback: the listener's address says whether the page is on the
// network, and loopbackHost which Host headers name this machine.
func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "0.0.0.0:0": false} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := (&Sandbox{ln: ln}).Loopback(); got != want {
			t.Errorf("listening on %s: Loopback() = %v, want %v", addr, got, want)
		}
		ln.Close()
	}
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost:8090", true}, {"LOCALHOST", true}, {"app.localhost:1", true}, {"127.0.0.1:8090", true},
		{"127.1.2.3", true}, {"[::1]:8090", true}, {"::1", true},
		{"evil.example:8090", false}, {"192.168.1.5:8090", false}, {"localhost.evil.example", false},
		{"127.0.0.1.nip.io:8090", false}, {"", false},
	} {
		if got := loopbackHost(tc.host); got != tc.want {
			t.Errorf("loopbackHost(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
