package sandbox

import (
	"flag"
	"fmt"
	"io"
)

func parseFlags(args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("cellbot sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", DefaultAddr, "`host:port` of the page (port 0 picks a free one); "+
		"an address other than loopback (127.0.0.1, ::1) exposes the page, which has no login, to the network")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cellbot sandbox [-addr 127.0.0.1:8090]")
		fmt.Fprintln(stderr, "Runs the bot against a Bot API test server and serves a page to try it in a browser; no token needed.")
		fmt.Fprintln(stderr, "The page has no login: whoever reaches it acts as the secretary and the members. Keep -addr on")
		fmt.Fprintln(stderr, "a loopback address (the default); any other address exposes the page to everyone on the network.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cellbot sandbox: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return *addr, nil
}
