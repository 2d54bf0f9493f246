package errorpage

import (
	"html/template"
	"net/http"
	"os"
	"strings"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("errors", factory,
		"catch panics and reported errors: a debug page, or a plain 500 with the report logged and mailed",
		"egg:Paste#errormiddleware", "egg:Paste#evalerror")
}

// factory reads: debug (false), error_template (none), error_email,
// smtp_server (localhost:25), from_address (gopaste@localhost),
// smtp_username, smtp_password, error_subject_prefix, smtp_timeout (10s),
// source_context (3).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		Debug:   c.Bool("debug", false),
		Logger:  c.Logger,
		Context: c.Int("source_context", 3),
	}
	if o.Debug {
		c.WarnExposedf("debug", "the debug page shows source, config, form, cookies and headers (secrets masked) to anyone who "+
			"makes the app fail, and the server listens where other hosts reach it; set debug = false outside development")
	}
	if o.Context < 0 || o.Context > 50 {
		c.Errorf("source_context", "%d is out of range 0..50", o.Context)
	}
	if p := c.Path("error_template", ""); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			c.Errorf("error_template", "%v", err)
		} else if t, err := template.New("error").Parse(string(b)); err != nil {
			c.Errorf("error_template", "%v", err)
		} else {
			o.Template = t
			c.Watch(p)
		}
	}
	var to []string
	for _, f := range c.List("error_email") {
		for _, a := range strings.Split(f, ",") {
			if a != "" {
				to = append(to, a)
			}
		}
	}
	if len(to) > 0 {
		o.Mail = &Mail{
			To:       to,
			Server:   c.String("smtp_server", "localhost:25"),
			From:     c.String("from_address", "gopaste@localhost"),
			Username: c.String("smtp_username", ""),
			Password: c.String("smtp_password", ""),
			Subject:  c.String("error_subject_prefix", ""),
			Timeout:  c.Duration("smtp_timeout", 0),
		}
		checkMail(c, o.Mail)
	} else {
		for _, k := range []string{"smtp_server", "from_address", "smtp_username", "smtp_password", "error_subject_prefix", "smtp_timeout"} {
			if c.Has(k) {
				c.Errorf(k, "is set but error_email is not")
			}
		}
	}
	// A report sees the config of the app the request is for: made
	// through Report from inside an app, or caught here in front of one
	// app (a pipeline gives the filters its app's config). In front of
	// a urlmap, it sees the global config and this section's.
	global, local, section := c.Global(), c.Local(), c.Section
	o.Config = func(r *http.Request) map[string]map[string]string {
		if rc := deploy.ConfigFrom(r.Context()); rc != nil {
			return map[string]map[string]string{"global": rc.Global, rc.Section: rc.Local}
		}
		return map[string]map[string]string{"global": global, section: local}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o)
}

// checkMail reports a bad mail setting under the key that holds it.
func checkMail(c *registry.Config, m *Mail) {
	if err := (&Mail{To: m.To}).validate(); err != nil {
		c.Errorf("error_email", "%v", err)
	}
	if err := (&Mail{To: []string{"a@b"}, From: m.From}).validate(); err != nil {
		c.Errorf("from_address", "%v", err)
	}
	if err := (&Mail{To: []string{"a@b"}, Server: m.Server}).validate(); err != nil {
		c.Errorf("smtp_server", "%v", err)
	}
}
