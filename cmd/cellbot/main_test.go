package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs main itself when the test re-executes this binary with
// CELLBOT_TEST_MAIN set, so that exit codes can be checked.
func TestMain(m *testing.M) {
	if os.Getenv("CELLBOT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHelpAndUnknownCommand: asking for help prints the usage and exits 0; an
// unknown command is named, with the usage, and exits 2.
func TestHelpAndUnknownCommand(t *testing.T) {
	run := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "CELLBOT_TEST_MAIN=1")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	for _, arg := range []string{"help", "-h", "--help"} {
		out, errOut, code := run(arg)
		if code != 0 || !strings.HasPrefix(out, "usage:") || errOut != "" {
			t.Errorf("cellbot %s: exit %d, stdout %q, stderr %q; want 0 and the usage", arg, code, out, errOut)
		}
	}
	_, errOut, code := run("bogus")
	if code != 2 || !strings.HasPrefix(errOut, "cellbot: unknown command bogus\nusage:") {
		t.Errorf("cellbot bogus: exit %d, stderr %q; want 2, the command named, and the usage", code, errOut)
	}
	_, errOut, code = run("cell", "export")
	if code != 2 || !strings.HasPrefix(errOut, "cellbot: wrong arguments for cell\nusage:") {
		t.Errorf("cellbot cell export: exit %d, stderr %q", code, errOut)
	}
}
