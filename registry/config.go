package registry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Entry is one resolved key of a section: its value and where the value
// came from ("site.ini:12", "[DEFAULT] site.ini:3", "set at site.ini:7").
type Entry struct {
	Key    string
	Value  string
	Origin string
}

// Loader builds other named parts of the same config; composites use it.
type Loader interface {
	// App builds the app, composite, pipeline or filter-app named name.
	App(name string) (http.Handler, error)
	// Filter builds the filter named name.
	Filter(name string) (func(http.Handler) http.Handler, error)
}

// Config is the view a factory gets of its section: the global config
// ([DEFAULT] plus "set" keys) and its local keys, with typed getters that
// remember which keys were read. Keys no getter read are reported by deploy
// as unknown. Getter errors (a bad int, a missing required key) are kept
// and returned together by [Config.Err]; a getter then returns the default.
//
// A Config is used by one factory call; it is not safe for concurrent use.
type Config struct {
	Kind    Kind
	Name    string // the section's name: "main" for [app:main]
	Section string // the section as written: "app:main"
	Origin  string // where the section starts: "site.ini:10"
	Here    string // the directory of the file the section came from
	File    string // the file the section came from
	Logger  *slog.Logger
	Loader  Loader
	// Registry is the registry the section's part was found in; a part
	// that looks up other kinds (a server its protocols, the session
	// filter its store) uses it. [NewConfig] sets [Default]; deploy sets
	// the registry it loads from.
	Registry *Registry
	// Pool keeps values across builds for [Shared]: the serve loop makes
	// one Pool and deploy sets it on every Config of every generation;
	// nil means shared values last one build.
	Pool *Pool
	// Stdout is where a part writes output meant for the user, such as
	// the console server's response: "gopaste serve" sets its standard
	// output; nil means os.Stdout.
	Stdout io.Writer
	// CheckOnly is set when the part is built only to be checked
	// ("gopaste check", deploy.Check) and will never serve: the factory
	// validates its keys and what they name (a command exists, a file
	// can be read) but starts nothing, no process, listener or
	// connection.
	CheckOnly bool

	global  []Entry
	local   []Entry
	read    map[string]bool
	asked   []string // every key a getter or Has asked for, set or not
	errs    []error
	warns   []Warning
	closers []io.Closer
	watch   []string
	starts  []func() error
}

// Warning is a setting that works but is risky, recorded by a factory with
// [Config.Warnf] or [Config.WarnExposedf]; deploy reports it with the
// build ("gopaste check" prints it, "gopaste serve" logs it at start).
type Warning struct {
	Key    string // the key it is about; empty for the section
	Origin string // where the key (or the section) is
	Msg    string
	// Exposed says the warning matters only when the config is served on
	// an address other hosts reach (the server is an [Exposer] saying so).
	Exposed bool
}

// Exposer is a server that can say whether it listens where other hosts
// reach it (a TCP address that is not loopback).
type Exposer interface {
	Exposed() bool
}

// NewConfig makes the view deploy hands to a factory. global and local are
// in file order; a nil logger means slog.Default().
func NewConfig(kind Kind, section, origin, file string, global, local []Entry, l Loader, logger *slog.Logger) *Config {
	name := section
	if _, n, ok := strings.Cut(section, ":"); ok {
		name = n
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Config{
		Kind: kind, Name: name, Section: section, Origin: origin,
		File: file, Here: filepath.Dir(file), Logger: logger, Loader: l, Registry: Default,
		global: global, local: local, read: make(map[string]bool),
	}
}

func find(es []Entry, key string) (Entry, bool) {
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Key == key {
			return es[i], true
		}
	}
	return Entry{}, false
}

// Lookup returns a local key's value and marks it read.
func (c *Config) Lookup(key string) (string, bool) {
	c.ask(key)
	e, ok := find(c.local, key)
	if ok {
		c.read[key] = true
	}
	return e.Value, ok
}

// Has reports whether the section sets key locally, without reading it.
func (c *Config) Has(key string) bool {
	c.ask(key)
	_, ok := find(c.local, key)
	return ok
}

// GlobalLookup returns a key of the global config ([DEFAULT] and "set").
func (c *Config) GlobalLookup(key string) (string, bool) {
	e, ok := find(c.global, key)
	return e.Value, ok
}

// Global returns the global config as a map (the factory's global_conf).
func (c *Config) Global() map[string]string { return toMap(c.global) }

// Local returns the local config as a map (the factory's local_conf),
// without marking anything read.
func (c *Config) Local() map[string]string { return toMap(c.local) }

// GlobalEntries and LocalEntries return the entries in file order.
func (c *Config) GlobalEntries() []Entry { return append([]Entry(nil), c.global...) }

// LocalEntries returns the local entries in file order.
func (c *Config) LocalEntries() []Entry { return append([]Entry(nil), c.local...) }

func toMap(es []Entry) map[string]string {
	m := make(map[string]string, len(es))
	for _, e := range es {
		m[e.Key] = e.Value
	}
	return m
}

// Keys returns the local keys in file order, without marking them read.
func (c *Config) Keys() []string {
	var ks []string
	seen := map[string]bool{}
	for _, e := range c.local {
		if !seen[e.Key] {
			seen[e.Key] = true
			ks = append(ks, e.Key)
		}
	}
	return ks
}

// KeysWithPrefix returns the local keys that start with prefix, in file
// order, without marking them read (read them with a getter).
func (c *Config) KeysWithPrefix(prefix string) []string {
	var ks []string
	for _, k := range c.Keys() {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	return ks
}

// MarkRead marks key as used by the factory.
func (c *Config) MarkRead(key string) { c.read[key] = true }

// Unread returns the local keys no getter read, in file order.
func (c *Config) Unread() []string {
	var ks []string
	for _, k := range c.Keys() {
		if !c.read[k] {
			ks = append(ks, k)
		}
	}
	return ks
}

// ask remembers that the factory knows key, for suggestions.
func (c *Config) ask(key string) {
	for _, k := range c.asked {
		if k == key {
			return
		}
	}
	c.asked = append(c.asked, key)
}

// Asked returns the keys the factory asked for through a getter or Has,
// whether the section sets them or not, in the order it asked: the keys
// it knows.
func (c *Config) Asked() []string { return append([]string(nil), c.asked...) }

// UnreadErrors returns an error for each local key no getter read, as
// "site.ini:14: [filter:gzip]: unknown key "levle" for filter "gzip";
// did you mean level?": what names the part (`filter "gzip"`), and the
// hint is the key the factory asked for that is closest, if one is close.
func (c *Config) UnreadErrors(what string) []error {
	var errs []error
	for _, k := range c.Unread() {
		errs = append(errs, fmt.Errorf("%s: [%s]: unknown key %q for %s%s", c.KeyOrigin(k), c.Section, k, what, DidYouMean(k, c.asked)))
	}
	return errs
}

// KeyOrigin says where key's value came from, or where the section starts
// when the key is not set.
func (c *Config) KeyOrigin(key string) string {
	if e, ok := find(c.local, key); ok && e.Origin != "" {
		return e.Origin
	}
	return c.Origin
}

// Errorf records an error about key (empty for the section itself),
// prefixed with its place: "site.ini:14: [filter:gzip]: key "level": ...".
// It returns the error, so a factory may also return it.
func (c *Config) Errorf(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	var err error
	if key == "" {
		err = fmt.Errorf("%s: [%s]: %s", c.Origin, c.Section, msg)
	} else {
		err = fmt.Errorf("%s: [%s]: key %q: %s", c.KeyOrigin(key), c.Section, key, msg)
	}
	c.errs = append(c.errs, err)
	return err
}

// Err returns every error the getters and Errorf recorded, joined; nil
// when there were none.
func (c *Config) Err() error { return errors.Join(c.errs...) }

// OnClose registers a resource deploy closes, in reverse order, when the
// built tree is discarded (shutdown, reload or a failed build). A resource
// that also has a Reopen() error method (deploy.Reopener, such as a log
// file's writer) is reopened when "gopaste serve" gets SIGUSR1; one with
// an AddWorkers(delta int) (int, error) method (deploy.WorkerScaler, such
// as a process pool) changes its number of workers on SIGTTIN and
// SIGTTOU.
func (c *Config) OnClose(cl io.Closer) { c.closers = append(c.closers, cl) }

// OnStart registers what the part starts that costs to start and to
// stop again: the process and wsgi apps' workers. deploy calls the
// functions in the order they were registered, and only once every part
// of the app and the server has built without an error, so that a config
// with an error anywhere starts none of them, at start or on a reload.
// An error a start returns (made with Errorf, to say where) fails the
// build, and everything built is closed, the part too. A start may
// declare files with Watch and register what it started with OnClose
// (closed before what the factories registered). Check-only builds
// (CheckOnly) run no start.
func (c *Config) OnStart(start func() error) { c.starts = append(c.starts, start) }

// Starts returns the functions registered with OnStart, in order.
func (c *Config) Starts() []func() error { return c.starts }

// Warnf records a warning about key (empty for the section).
func (c *Config) Warnf(key, format string, args ...any) {
	c.warns = append(c.warns, Warning{Key: key, Origin: c.KeyOrigin(key), Msg: fmt.Sprintf(format, args...)})
}

// WarnExposedf records a warning about key that deploy reports only when
// the server serving the config is exposed (see [Exposer]): a debug tool
// is fine on loopback, not on a public address.
func (c *Config) WarnExposedf(key, format string, args ...any) {
	c.warns = append(c.warns, Warning{Key: key, Origin: c.KeyOrigin(key), Msg: fmt.Sprintf(format, args...), Exposed: true})
}

// Warnings returns what Warnf and WarnExposedf recorded.
func (c *Config) Warnings() []Warning { return c.warns }

// Closers returns the resources registered with OnClose, in order.
func (c *Config) Closers() []io.Closer { return c.closers }

// Watch declares a file whose change should trigger a reload under
// "gopaste serve --reload".
func (c *Config) Watch(path string) { c.watch = append(c.watch, path) }

// Watched returns the files declared with Watch.
func (c *Config) Watched() []string { return c.watch }

// String returns key's value, or def when it is not set.
func (c *Config) String(key, def string) string {
	if v, ok := c.Lookup(key); ok {
		return v
	}
	return def
}

// Required returns key's value and records an error when it is missing or
// empty.
func (c *Config) Required(key string) string {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		c.Errorf(key, "is required")
		return ""
	}
	return v
}

// Int returns key as an int.
func (c *Config) Int(key string, def int) int {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		c.Errorf(key, "%q is not an integer", v)
		return def
	}
	return n
}

// Float returns key as a float64.
func (c *Config) Float(key string, def float64) float64 {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		c.Errorf(key, "%q is not a number", v)
		return def
	}
	return f
}

// ParseBool reads Python's truthy words as paste.deploy.converters.asbool
// does: true/yes/on/y/t/1 and false/no/off/n/f/0, any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "y", "t", "1":
		return true, nil
	case "false", "no", "off", "n", "f", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false, yes/no, on/off, 1/0)", s)
}

// Bool returns key as a bool, with Python's truthy words.
func (c *Config) Bool(key string, def bool) bool {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	b, err := ParseBool(v)
	if err != nil {
		c.Errorf(key, "%v", err)
		return def
	}
	return b
}

// ParseDuration reads a duration: a bare number is seconds (as Paste,
// gunicorn and uWSGI take it), otherwise Go syntax ("1m30s", "250ms").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > float64(math.MaxInt64)/float64(time.Second) {
			return 0, fmt.Errorf("%q is not a valid duration", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (seconds, or like 1m30s)", s)
	}
	return d, nil
}

// Duration returns key as a duration (bare numbers are seconds).
func (c *Config) Duration(key string, def time.Duration) time.Duration {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil {
		c.Errorf(key, "%v", err)
		return def
	}
	return d
}

// ParseSize reads a byte count with an optional K, M or G suffix (powers
// of 1024; "KB", "MiB" and friends are accepted too).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, suf.s) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, suf.s)), suf.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or with K, M, G)", s)
	}
	return n * mult, nil
}

// Size returns key as a byte count (K, M, G suffixes allowed).
func (c *Config) Size(key string, def int64) int64 {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := ParseSize(v)
	if err != nil {
		c.Errorf(key, "%v", err)
		return def
	}
	return n
}

// List returns key split on white space (spaces, tabs, continuation
// lines), as paste.deploy.converters.aslist does; nil when unset or
// empty.
func (c *Config) List(key string) []string {
	v, _ := c.Lookup(key)
	f := strings.Fields(v)
	if len(f) == 0 {
		return nil
	}
	return f
}

// Path returns key as a path; a relative one is taken from the directory
// of the file that set it (here).
func (c *Config) Path(key, def string) string {
	v := c.String(key, def)
	if v == "" || filepath.IsAbs(v) {
		return v
	}
	return filepath.Join(c.Here, v)
}

// OneOf returns key's value, which must be one of choices (def when unset).
func (c *Config) OneOf(key, def string, choices ...string) string {
	v, ok := c.Lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	v = strings.TrimSpace(v)
	for _, ch := range choices {
		if v == ch {
			return v
		}
	}
	c.Errorf(key, "%q is not one of %s", v, strings.Join(choices, ", "))
	return def
}
