// Package cgi2scgi is the "gopaste cgi2scgi" command: a CGI program that
// forwards its request to an SCGI server and writes the reply back as CGI
// output, as the cgi2scgi.c of the SCGI distribution did. A web server
// that can only run CGI programs (Apache mod_cgi, fcgiwrap, gopaste's own
// cgi app) can so reach a long-running SCGI application.
//
// The CGI variables the web server set (RFC 3875's, the common extras and
// every HTTP_* but HTTP_PROXY) become the SCGI headers, CONTENT_LENGTH
// first; stdin's CONTENT_LENGTH bytes follow. The reply is copied to
// stdout as it arrives; an "HTTP/1.x NNN" status line, which some SCGI
// servers send, becomes the "Status: NNN" line CGI needs.
package cgi2scgi

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gopaste/gopaste/cgi"
	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/scgi"
)

func init() {
	cli.AddCommand("cgi2scgi", "run as a CGI program that forwards the request to an SCGI server", run)
}

// Options configure Forward.
type Options struct {
	// Addr is the SCGI server: "host:port" or "unix:/path".
	Addr string
	// Env is the CGI environment, "NAME=value" strings.
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
	// Timeout bounds the whole exchange; zero means none.
	Timeout time.Duration
}

// ErrNoReply reports an SCGI server that closed the connection without
// a byte of reply.
var ErrNoReply = errors.New("cgi2scgi: SCGI server closed the connection without a reply")

// Forward sends the CGI request of o.Env and o.Stdin to the SCGI server
// and copies its reply to o.Stdout. When it fails before writing anything
// it writes a "Status: 502" (or 400 for a bad request) reply itself and
// returns the error.
func Forward(ctx context.Context, o Options) error {
	wrote := false
	fail := func(code int, err error) error {
		if !wrote {
			text := "Bad Gateway"
			if code == 400 {
				text = "Bad Request"
			}
			fmt.Fprintf(o.Stdout, "Status: %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%d %s\n", code, text, code, text)
		}
		return err
	}
	vars := cgi.Vars(o.Env)
	sv := make([]scgi.Var, 0, len(vars)+1)
	clen := int64(0)
	haveLen := false
	for _, p := range vars {
		switch p.Name {
		case "HTTP_PROXY": // httpoxy: never forwarded
			continue
		case "CONTENT_LENGTH":
			v := strings.TrimSpace(p.Value)
			if v == "" {
				v = "0"
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fail(400, fmt.Errorf("cgi2scgi: %w: %q", cgivars.ErrBadContentLength, p.Value))
			}
			clen, haveLen = n, true
			p.Value = v
		}
		sv = append(sv, scgi.Var{Name: p.Name, Value: p.Value})
	}
	if !haveLen {
		sv = append(sv, scgi.Var{Name: "CONTENT_LENGTH", Value: "0"})
	}
	if err := cgivars.Check(vars); err != nil {
		return fail(400, fmt.Errorf("cgi2scgi: %w", err))
	}
	head, err := scgi.AppendHeaders(nil, sv)
	if err != nil {
		return fail(400, err)
	}

	network, address := "tcp", o.Addr
	if p, ok := strings.CutPrefix(o.Addr, "unix:"); ok {
		network, address = "unix", p
	}
	dt := o.DialTimeout
	if dt <= 0 {
		dt = 10 * time.Second
	}
	d := net.Dialer{Timeout: dt}
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return fail(502, fmt.Errorf("cgi2scgi: %w", err))
	}
	defer c.Close()
	if o.Timeout > 0 {
		c.SetDeadline(time.Now().Add(o.Timeout))
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	// The body goes in its own goroutine: a server may answer (and close)
	// before it has read all of it.
	sent := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(c, 32<<10)
		bw.Write(head)
		if clen > 0 {
			if _, err := io.CopyN(bw, o.Stdin, clen); err != nil {
				sent <- fmt.Errorf("cgi2scgi: request body: %w", err)
				return
			}
		}
		sent <- bw.Flush()
	}()

	br := bufio.NewReaderSize(c, 32<<10)
	first, err := br.Peek(5)
	if len(first) == 0 {
		if err == io.EOF {
			err = ErrNoReply
			select {
			case werr := <-sent:
				if werr != nil {
					err = werr
				}
			case <-time.After(100 * time.Millisecond):
			}
		}
		return fail(502, fmt.Errorf("cgi2scgi: %s: %w", o.Addr, err))
	}
	if string(first) == "HTTP/" {
		line, err := br.ReadString('\n')
		if err != nil {
			return fail(502, fmt.Errorf("cgi2scgi: %s: reading status line: %w", o.Addr, err))
		}
		_, status, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		if _, err := strconv.Atoi(strings.SplitN(status, " ", 2)[0]); err != nil {
			return fail(502, fmt.Errorf("cgi2scgi: %s: bad status line %q", o.Addr, line))
		}
		wrote = true
		if _, err := fmt.Fprintf(o.Stdout, "Status: %s\r\n", status); err != nil {
			return err
		}
	}
	wrote = true
	if _, err := io.Copy(flushWriter{o.Stdout}, br); err != nil {
		return fmt.Errorf("cgi2scgi: %s: reply: %w", o.Addr, err)
	}
	return nil
}

// flushWriter flushes after each write when the writer can.
type flushWriter struct{ w io.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(interface{ Flush() error }); ok && err == nil {
		err = fl.Flush()
	}
	return n, err
}

func run(e *cli.Env, args []string) int {
	fs := newFlagSet(e)
	addr := fs.String("addr", "", "the SCGI server, host:port or unix:/path (default $SCGI_ADDR)")
	timeout := fs.Duration("timeout", 0, "bound the whole exchange (0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *addr == "" {
		*addr = os.Getenv("SCGI_ADDR")
	}
	if *addr == "" {
		fmt.Fprintln(e.Stderr, "gopaste cgi2scgi: no SCGI server: give --addr or set SCGI_ADDR")
		fmt.Fprint(e.Stdout, "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n500 Internal Server Error\n")
		return 2
	}
	err := Forward(e.Context, Options{
		Addr: *addr, Env: os.Environ(), Stdin: e.Stdin, Stdout: e.Stdout, Timeout: *timeout,
	})
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste cgi2scgi: %v\n", err)
		return 1
	}
	return 0
}
