package registry

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func nopApp(c *Config) (http.Handler, error) { return http.NotFoundHandler(), nil }

func TestRegistryNamesAndAliases(t *testing.T) {
	r := New()
	if err := r.AddApp("static", nopApp, "files", "egg:Paste#static"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddComposite("static", nopApp, "clash"); err == nil {
		t.Error("a composite may not take an app's name: they share a namespace")
	}
	if err := r.AddFilter("static", func(*Config) (func(http.Handler) http.Handler, error) { return nil, nil }, "ok"); err != nil {
		t.Errorf("filters have their own namespace: %v", err)
	}
	if err := r.AddApp("other", nopApp, "x", "egg:Paste#static"); err == nil {
		t.Error("duplicate alias accepted")
	}
	for _, name := range []string{"static", "egg:Paste#static", "egg:AnyDist#static"} {
		if p, ok := r.Lookup(App, name); !ok || p.Name != "static" {
			t.Errorf("Lookup(%q) = %v, %v", name, p, ok)
		}
	}
	if _, ok := r.Lookup(App, "egg:Paste#nothing"); ok {
		t.Error("found a part that does not exist")
	}
	if got := len(r.Parts(App)); got != 1 {
		t.Errorf("Parts(App) = %d parts", got)
	}
}

func TestMustAddPanicsOnDuplicate(t *testing.T) {
	r := New()
	r.MustAdd(Part{Kind: App, Name: "a", App: nopApp})
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	r.MustAdd(Part{Kind: App, Name: "a", App: nopApp})
}

func cfg(local ...string) *Config {
	var es []Entry
	for i := 0; i+1 < len(local); i += 2 {
		es = append(es, Entry{Key: local[i], Value: local[i+1], Origin: "t.ini:" + string(rune('2'+i/2))})
	}
	return NewConfig(App, "app:main", "t.ini:1", "/srv/site/t.ini", []Entry{{Key: "debug", Value: "true"}}, es, nil, nil)
}

func TestGetters(t *testing.T) {
	c := cfg("n", "42", "b", "Yes", "d", "1.5", "d2", "1m30s", "s", "64K", "l", "a  b\nc", "p", "data/x", "abs", "/x", "f", "0.25", "o", "lax")
	if got := c.Int("n", 0); got != 42 {
		t.Errorf("Int = %d", got)
	}
	if got := c.Bool("b", false); !got {
		t.Errorf("Bool(Yes) = false")
	}
	if got := c.Duration("d", 0); got != 1500*time.Millisecond {
		t.Errorf("Duration(1.5) = %v", got)
	}
	if got := c.Duration("d2", 0); got != 90*time.Second {
		t.Errorf("Duration(1m30s) = %v", got)
	}
	if got := c.Size("s", 0); got != 64<<10 {
		t.Errorf("Size(64K) = %d", got)
	}
	if got := strings.Join(c.List("l"), ","); got != "a,b,c" {
		t.Errorf("List = %q", got)
	}
	if got := c.Path("p", ""); got != "/srv/site/data/x" {
		t.Errorf("Path = %q", got)
	}
	if got := c.Path("abs", ""); got != "/x" {
		t.Errorf("Path(abs) = %q", got)
	}
	if got := c.Float("f", 0); got != 0.25 {
		t.Errorf("Float = %v", got)
	}
	if got := c.OneOf("o", "strict", "lax", "strict", "none"); got != "lax" {
		t.Errorf("OneOf = %q", got)
	}
	if got := c.String("missing", "def"); got != "def" {
		t.Errorf("String default = %q", got)
	}
	if got := c.List("missing"); got != nil {
		t.Errorf("List(unset) = %#v, want nil", got)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("Unread = %v", u)
	}
	if v, ok := c.GlobalLookup("debug"); !ok || v != "true" {
		t.Errorf("GlobalLookup = %q %v", v, ok)
	}
}

func TestGetterErrorsNameTheKey(t *testing.T) {
	c := cfg("n", "ten", "b", "maybe", "d", "soon", "s", "lots", "o", "loose")
	c.Int("n", 1)
	c.Bool("b", false)
	c.Duration("d", 0)
	c.Size("s", 0)
	c.OneOf("o", "lax", "lax", "strict")
	c.Required("absent")
	err := c.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`t.ini:2: [app:main]: key "n": "ten" is not an integer`, `key "b"`, `key "d"`, `key "s"`, `key "o"`, `t.ini:1: [app:main]: key "absent": is required`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestUnreadKeys(t *testing.T) {
	c := cfg("known", "1", "levle", "3")
	c.String("known", "")
	if got := c.Unread(); len(got) != 1 || got[0] != "levle" {
		t.Errorf("Unread = %v", got)
	}
}

func TestParseBoolWords(t *testing.T) {
	for _, s := range []string{"true", "YES", "on", "1", "t", "y"} {
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"false", "No", "off", "0", "f", "n"} {
		if b, err := ParseBool(s); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	if _, err := ParseBool("perhaps"); err == nil {
		t.Error("ParseBool(perhaps) accepted")
	}
}

func TestParseSizeAndDurationLimits(t *testing.T) {
	for _, s := range []string{"-1", "1X", "99999999999G", ""} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
	for _, s := range []string{"-5", "NaN", "1e300", "tomorrow"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) accepted", s)
		}
	}
}
