// Package redisserver runs a local redis-server as a child process: the bot's own Redis
// when REDIS_URL is empty (README, "Settings"), and the Redis that tests start.
//
// The server listens on 127.0.0.1 only, keeps its data in one directory and writes its
// log there (redis.log). With AppendOnly it persists every write to the append-only file,
// fsynced every second, so a restart or a crash loses at most about one second of writes.
package redisserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned (wrapped) by Start when the redis-server binary is not
// found. It says only how to install it: the bot adds its own ways round (REDIS_URL,
// docker compose), which the sandbox and the tests do not have.
var ErrNotInstalled = errors.New("redis-server is not installed: install it " +
	"(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)")

// ErrDirInUse is returned (wrapped) by Start when another process holds the
// data directory's lock: two redis-servers on one append-only file would corrupt it.
var ErrDirInUse = errors.New("the data folder is in use by another cellbot")

// DirError is returned (wrapped) by Start when the data directory cannot be
// created or written to (its lock or log cannot be opened).
type DirError struct {
	Dir string // absolute
	Err error  // the system's error, with the path
}

func (e *DirError) Error() string {
	return "redisserver: the data folder " + e.Dir + " cannot be written to (" + e.Reason() + ")"
}

func (e *DirError) Unwrap() error { return e.Err }

// Reason is the system's reason without the path: "permission denied".
func (e *DirError) Reason() string {
	var pe *fs.PathError
	if errors.As(e.Err, &pe) {
		return pe.Err.Error()
	}
	return e.Err.Error()
}

const (
	// LogFile is the name of the server's log in its directory.
	LogFile = "redis.log"
	// LockFile is the lock in the data directory, held while a server runs
	// there; it holds the holder's process id.
	LockFile = "cellbot.lock"

	defaultStartTimeout = 30 * time.Second
	defaultStopTimeout  = 15 * time.Second
	pollInterval        = 20 * time.Millisecond
	// freePortTries bounds the retries when a port picked by Start was taken by someone
	// else before redis-server could bind it.
	freePortTries = 5
	logTailLines  = 20
)

// Options say how to run the server.
type Options struct {
	// Dir holds the data, the append-only file and the log. It is created with mode 0700
	// when missing. Required.
	Dir string
	// Port to listen on, on 127.0.0.1; 0 picks a free port.
	Port int
	// AppendOnly turns on the append-only file (appendfsync everysec). Without it the
	// server keeps nothing on disk: its data ends with the process.
	AppendOnly bool
	// Logger receives the start and stop events; nil discards them. The server's own
	// log goes to LogFile in Dir.
	Logger *slog.Logger
	// Binary is the redis-server to run: a path, or a name looked up in PATH.
	// Default "redis-server".
	Binary string
	// StartTimeout bounds the wait for the server to answer PING (also bounded by the
	// context given to Start or Restart). Default 30s: loading a large AOF takes time.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before it kills the process.
	// Default 15s.
	StopTimeout time.Duration
	// ExtraArgs are more command-line options, after the ones Start sets (tests use
	// them for --cluster-enabled yes).
	ExtraArgs []string
}

// Server is a running redis-server. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	binary string // resolved path
	logger *slog.Logger

	mu   sync.Mutex
	port int
	proc *process // nil when stopped
	lock *os.File // LockFile, locked while the server runs; nil when stopped
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// Start runs redis-server with opts and returns once it answers PING. ctx bounds only
// the start; the server runs until Stop. When the binary cannot be found, the error wraps
// ErrNotInstalled; when the data directory cannot be written to, it is a *DirError; when
// the server fails to start, the error quotes the end of its log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("redisserver: start: Options.Dir is empty")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("redisserver: start: port %d out of range", opts.Port)
	}
	if opts.Binary == "" {
		opts.Binary = "redis-server"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = defaultStopTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	binary, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("redisserver: %w (looking for %q: %w)", ErrNotInstalled, opts.Binary, err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("redisserver: data dir %s: %w", opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &DirError{Dir: dir, Err: err}
	}
	opts.Dir = dir

	s := &Server{opts: opts, binary: binary, logger: logger, port: opts.Port}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.lockLocked(); err != nil {
		return nil, err
	}
	if err := s.startLocked(ctx, opts.Port == 0); err != nil {
		s.unlockLocked()
		return nil, err
	}
	return s, nil
}

// lockLocked takes the data directory's lock, or says who holds it.
func (s *Server) lockLocked() error {
	if s.lock != nil {
		return nil
	}
	path := filepath.Join(s.opts.Dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &DirError{Dir: s.opts.Dir, Err: err}
	}
	held, err := flock(f)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("redisserver: lock %s: %w", path, err)
	}
	if held {
		pid, _ := io.ReadAll(io.LimitReader(f, 32))
		_ = f.Close()
		holder := ""
		if p := strings.TrimSpace(string(pid)); p != "" {
			holder = " (process " + p + ")"
		}
		return fmt.Errorf("redisserver: %w%s: %s. Stop the other bot first, or give this one a data folder of its own (CELLBOT_DATA_DIR)",
			ErrDirInUse, holder, s.opts.Dir)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	s.lock = f
	return nil
}

func (s *Server) unlockLocked() {
	if s.lock != nil {
		_ = s.lock.Close() // closing drops the lock
		s.lock = nil
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL returns the server's address as a REDIS_URL: redis://127.0.0.1:port/0.
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Dir returns the absolute path of the data directory.
func (s *Server) Dir() string { return s.opts.Dir }

// LogPath returns the path of the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.opts.Dir, LogFile) }

// Done returns a channel that is closed when the current process exits, by Stop or on
// its own (a crash). After Restart, call Done again for the new process. When the server
// is stopped, the channel is already closed.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.proc.done
}

// Stop sends SIGTERM, which makes redis-server flush the append-only file and exit, and
// waits for it; after StopTimeout it kills the process. Stopping a stopped server does
// nothing. The error says when the server had to be killed or exited with a failure.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.unlockLocked()
	return s.stopLocked()
}

// Restart stops the server and starts it again on the same port and directory: with
// AppendOnly, the data written before is there again. ctx bounds the start.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(); err != nil {
		return fmt.Errorf("redisserver: restart: %w", err)
	}
	if err := s.lockLocked(); err != nil {
		return err
	}
	return s.startLocked(ctx, false)
}

func (s *Server) stopLocked() error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	select {
	case <-p.done:
		// It had exited by itself.
		s.logger.Warn("redis-server had already exited", "addr", s.addrLocked(), "err", p.err)
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.logger.Warn("redis-server: send SIGTERM", "err", err)
	}
	timer := time.NewTimer(s.opts.StopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		s.logger.Info("redis-server stopped", "addr", s.addrLocked())
		if p.err != nil {
			return fmt.Errorf("redisserver: stop %s: redis-server exited with %w", s.addrLocked(), p.err)
		}
		return nil
	case <-timer.C:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redisserver: kill %s: %w", s.addrLocked(), err)
	}
	<-p.done
	s.logger.Warn("redis-server killed: it did not exit after SIGTERM", "addr", s.addrLocked(), "timeout", s.opts.StopTimeout)
	return fmt.Errorf("redisserver: stop %s: did not exit within %s of SIGTERM; killed", s.addrLocked(), s.opts.StopTimeout)
}

func (s *Server) addrLocked() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// startLocked starts a process on s.port (a free one first when pickPort) and waits
// until it answers PING.
func (s *Server) startLocked(ctx context.Context, pickPort bool) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	tries := 1
	if pickPort {
		tries = freePortTries
	}
	var err error
	for range tries {
		if pickPort {
			if s.port, err = freePort(); err != nil {
				return fmt.Errorf("redisserver: pick a port: %w", err)
			}
		}
		var inUse bool
		inUse, err = s.tryStart(ctx)
		if err == nil || !inUse {
			return err
		}
		// Someone took the port between freePort and redis-server's bind: pick another.
		s.logger.Debug("redis-server: port taken, trying another", "port", s.port)
	}
	return err
}

// tryStart runs one process. inUse reports that it failed because its port was taken.
func (s *Server) tryStart(ctx context.Context) (inUse bool, err error) {
	logPath := s.LogPath()
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false, &DirError{Dir: s.opts.Dir, Err: err}
	}
	// The child keeps its own descriptor; ours is not needed once it has started.
	defer logFile.Close()
	logStart, err := logFile.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("redisserver: open log: %w", err)
	}

	cmd := exec.Command(s.binary, s.args()...)
	cmd.Dir = s.opts.Dir
	// redis-server logs to stdout when no logfile is set: sending stdout and stderr to
	// the file also keeps the messages it prints before its logging is set up (a bad
	// option, say).
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// On Linux the parent-death signal (sysproc_linux.go) is sent when the thread
		// that started the child exits, not the process (golang/go#27505). Go may end
		// a thread when a goroutine locked to it returns, so keep this goroutine, and
		// its thread, for as long as the child runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return false, fmt.Errorf("redisserver: run %s: %w", s.binary, err)
	}
	s.logger.Debug("redis-server starting", "pid", cmd.Process.Pid, "addr", s.addrLocked(), "dir", s.opts.Dir)

	if err := waitForPing(ctx, s.addrLocked(), p.done); err != nil {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		tail := logTail(logPath, logStart)
		inUse = strings.Contains(tail, "Address already in use")
		return inUse, fmt.Errorf("redisserver: start %s on %s: %w; the end of its log (%s):\n%s",
			s.binary, s.addrLocked(), err, logPath, tail)
	}
	s.proc = p
	s.logger.Info("redis-server started", "pid", cmd.Process.Pid, "addr", s.addrLocked(),
		"dir", s.opts.Dir, "appendonly", s.opts.AppendOnly)
	return false, nil
}

// args returns redis-server's command line: settings as "--name value" pairs, which
// redis-server reads like lines of a config file, so there is no file to write or clean.
func (s *Server) args() []string {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--dir", s.opts.Dir,
		"--daemonize", "no",
		"--logfile", "", // stdout, which tryStart sends to the log file
		// RDB snapshots are off in both modes. With AppendOnly the AOF is the one
		// durable copy: Redis loads it rather than the RDB at start, so snapshots would
		// only add forks and disk writes on a small machine, and the AOF rewrite already
		// stores a compact RDB preamble (aof-use-rdb-preamble, on by default). Without
		// AppendOnly the server is a throwaway (tests) and should not touch the disk.
		"--save", "",
	}
	if s.opts.AppendOnly {
		args = append(args,
			"--appendonly", "yes",
			"--appendfsync", "everysec",
		)
	} else {
		args = append(args, "--appendonly", "no")
	}
	return append(args, s.opts.ExtraArgs...)
}

// waitForPing polls addr until it answers PING with PONG. A server still loading its AOF
// answers -LOADING, and is waited for too.
func waitForPing(ctx context.Context, addr string, exited <-chan struct{}) error {
	// A PING in flight ends as soon as the process exits.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		// Exit comes first: with both channels ready, select would pick at random.
		select {
		case <-exited:
			return errors.New("redis-server exited")
		default:
		}
		last := ping(ctx, addr)
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			select {
			case <-exited: // the cancel above
				return errors.New("redis-server exited")
			default:
			}
			return fmt.Errorf("no answer to PING (last: %v): %w", last, ctx.Err())
		case <-ticker.C:
		}
	}
}

// ping sends one PING in the Redis protocol and reads the reply line.
func ping(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// logTail returns the last lines the log file got from offset on.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	out := string(bytes.Join(lines, []byte("\n")))
	if strings.TrimSpace(out) == "" {
		return "(empty)"
	}
	return out
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process may take it
// before redis-server binds it; startLocked then tries another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
