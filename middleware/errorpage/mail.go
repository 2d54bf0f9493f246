package errorpage

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Mail says where error reports are mailed, as Paste's error_email,
// smtp_server and from_address did.
type Mail struct {
	To       []string // recipients; required
	From     string   // sender; empty means "gopaste@localhost"
	Server   string   // host:port of the SMTP server; empty means "localhost:25"
	Username string   // for SMTP AUTH PLAIN (net/smtp only sends it over TLS or to localhost)
	Password string
	Subject  string        // subject prefix; empty means "[gopaste error] "
	Timeout  time.Duration // for the whole exchange; zero means 10s
}

func (m *Mail) validate() error {
	if len(m.To) == 0 {
		return errors.New("errorpage: mail has no recipient")
	}
	for _, a := range append([]string{m.from()}, m.To...) {
		if _, err := mail.ParseAddress(a); err != nil {
			return fmt.Errorf("errorpage: bad mail address %q: %w", a, err)
		}
	}
	if _, _, err := net.SplitHostPort(m.server()); err != nil {
		return fmt.Errorf("errorpage: bad smtp server %q: %w", m.Server, err)
	}
	return nil
}

func (m *Mail) from() string {
	if m.From == "" {
		return "gopaste@localhost"
	}
	return m.From
}

func (m *Mail) server() string {
	if m.Server == "" {
		return "localhost:25"
	}
	return m.Server
}

// send mails rep's text form. It blocks for at most the timeout.
func (m *Mail) send(ctx context.Context, rep *report) error {
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.server())
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline) // a fresh TCP conn always takes a deadline
	host, _, _ := net.SplitHostPort(m.server())
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from()); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(m.message(rep)); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (m *Mail) message(rep *report) []byte {
	prefix := m.Subject
	if prefix == "" {
		prefix = "[gopaste error] "
	}
	subject := prefix + rep.Title
	if len(subject) > 200 {
		subject = subject[:200]
	}
	subject = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, subject)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nX-Request-Id: %s\r\n\r\n",
		m.from(), strings.Join(m.To, ", "), mime.QEncoding.Encode("utf-8", subject),
		rep.Time.Format(time.RFC1123Z), rep.ID)
	// Normalise line ends; the SMTP data writer dot-stuffs.
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(rep.Text(), "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String())
}
