// Package rewrite changes request paths by ordered regular-expression
// rules, as Apache's mod_rewrite RewriteRule and Paste's redirect helpers
// do: a rule either rewrites the path inside the server (the next handler
// sees the new path) or answers with an external redirect.
//
// A rule is "REGEX TARGET [STATUS]". REGEX (Go RE2 syntax, unanchored:
// write ^ and $) is matched against the request path as the filter sees it
// (below any urlmap mount) in its escaped form, so %2F and %3F stay
// escaped. TARGET replaces the whole path; $1, ${1} and ${name} in it are
// the groups of the match, $$ is a dollar sign. The original query string
// is kept unless TARGET has a '?' of its own. Rules are tried in order and
// the first that matches applies; a request no rule matches passes on
// unchanged.
//
// A rule with STATUS (301, 302, 303, 307 or 308) redirects: the response
// carries Location: TARGET, used as written, so under a mount it must
// include the mount prefix. A rule without STATUS rewrites, and its TARGET
// must start with '/'. A TARGET starting with '/' never expands to a
// scheme-relative "//host" URL: extra leading slashes are dropped, so a
// capture cannot turn a rule into an open redirect. A TARGET that names
// no host of its own ("$1", "x/$1") is refused (400) when its expansion
// would name one ("http:/evil.example", "\\evil.example").
//
// Before any rule is tried, a request whose path is not clean ("//x",
// "/./x", "/a/../x") is redirected to the clean path ([mount.Canonical]),
// and the path a rewrite produces is cleaned, so the handlers after the
// filter match the same path as every other part.
package rewrite

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Rule is one rewrite or redirect rule.
type Rule struct {
	Pattern *regexp.Regexp
	Target  string
	// Status is the redirect status; zero means an internal rewrite.
	Status int
}

// ParseRule reads "REGEX TARGET [STATUS]" (fields separated by white
// space; write a space in REGEX as \s or \x20). A rule without STATUS gets
// defaultStatus (zero for a rewrite).
func ParseRule(s string, defaultStatus int) (Rule, error) {
	f := strings.Fields(s)
	if len(f) < 2 || len(f) > 3 {
		return Rule{}, fmt.Errorf("want REGEX TARGET [STATUS], got %d fields", len(f))
	}
	re, err := regexp.Compile(f[0])
	if err != nil {
		return Rule{}, fmt.Errorf("bad regular expression: %v", err)
	}
	r := Rule{Pattern: re, Target: f[1], Status: defaultStatus}
	if len(f) == 3 {
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return Rule{}, fmt.Errorf("status %q is not a number", f[2])
		}
		r.Status = n
	}
	return r, r.validate()
}

func (r Rule) validate() error {
	if r.Pattern == nil {
		return errors.New("no pattern")
	}
	switch r.Status {
	case 0:
		if !strings.HasPrefix(r.Target, "/") {
			return fmt.Errorf("rewrite target %q must start with /", r.Target)
		}
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if r.Target == "" {
			return errors.New("empty redirect target")
		}
	default:
		return fmt.Errorf("status %d is not a redirect (301, 302, 303, 307, 308)", r.Status)
	}
	if _, err := url.Parse(strings.NewReplacer("$", "").Replace(r.Target)); err != nil {
		return fmt.Errorf("target %q is not a URL", r.Target)
	}
	return nil
}

// expand returns the rule's target for path, or false when it does not
// match.
func (r Rule) expand(path string) (string, bool) {
	m := r.Pattern.FindStringSubmatchIndex(path)
	if m == nil {
		return "", false
	}
	out := string(r.Pattern.ExpandString(nil, r.Target, path, m))
	if strings.HasPrefix(r.Target, "/") {
		out = "/" + strings.TrimLeft(out, `/\`)
	}
	return out, true
}

// leaves reports whether target, expanded from a rule whose Target does
// not name a host itself, names one: a scheme, a host, or a leading
// backslash that browsers read as "//".
func (r Rule) leaves(target string) bool {
	lit, _, _ := strings.Cut(r.Target, "$")
	if strings.HasPrefix(r.Target, "/") || strings.Contains(lit, "://") {
		return false
	}
	if strings.HasPrefix(target, `\`) || strings.HasPrefix(target, `/\`) || strings.HasPrefix(target, "//") {
		return true
	}
	u, err := url.Parse(target)
	return err != nil || u.Scheme != "" || u.Host != ""
}

// Options configure the filter.
type Options struct {
	// Rules are tried in order.
	Rules []Rule
	// Logger gets a debug record per applied rule; nil means
	// slog.Default().
	Logger *slog.Logger
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	for i, r := range o.Rules {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("rewrite: rule %d: %w", i+1, err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !mount.Canonical(w, r) {
				return
			}
			path := r.URL.EscapedPath()
			for _, rule := range o.Rules {
				target, ok := rule.expand(path)
				if !ok {
					continue
				}
				if o.Logger.Enabled(r.Context(), slog.LevelDebug) {
					o.Logger.Debug("rewrite rule applied", "path", path, "target", target, "status", rule.Status)
				}
				if !strings.Contains(target, "?") && r.URL.RawQuery != "" {
					target += "?" + r.URL.RawQuery
				}
				if rule.leaves(target) {
					o.Logger.Warn("rewrite target leaves the site", "path", path, "target", target)
					http.Error(w, "400 Bad Request", http.StatusBadRequest)
					return
				}
				if rule.Status != 0 {
					http.Redirect(w, r, target, rule.Status)
					return
				}
				u, err := url.Parse(target)
				if err != nil {
					o.Logger.Warn("rewrite target is not a URL", "path", path, "target", target, "err", err)
					http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
					return
				}
				r2 := *r
				nu := *r.URL
				nu.Path, nu.RawPath = mount.CleanPath(u.Path), u.RawPath
				if nu.Path != u.Path {
					nu.RawPath = ""
				}
				if nu.RawQuery != u.RawQuery {
					nu.RawQuery = u.RawQuery
					r2.Form = nil
				}
				r2.URL = &nu
				next.ServeHTTP(w, &r2)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}
