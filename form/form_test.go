package form_test

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/gopastetest"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/memstore"
)

func newCSRF(t *testing.T) *form.CSRF {
	t.Helper()
	c, err := form.NewCSRF(form.CSRFOptions{Secret: "0123456789abcdef-form"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCSRFErrors(t *testing.T) {
	for name, o := range map[string]form.CSRFOptions{
		"short secret": {Secret: "short"},
		"bad cookie":   {Secret: "0123456789abcdef", CookieName: "a b"},
		"bad origin":   {Secret: "0123456789abcdef", TrustedOrigins: []string{"not a url"}},
	} {
		if _, err := form.NewCSRF(o); err == nil || !strings.HasPrefix(err.Error(), "form: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// page is an application: a form with every widget; a submission
// without errors is echoed as text.
func page(c *form.CSRF) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form.New(w, r, c)
		name := &form.String{Field: form.Field{Name: "name", Title: "Name", Required: true}, MaxLen: 20}
		pw := &form.Password{Field: form.Field{Name: "pw", Title: "Password"}}
		bio := &form.Text{Field: form.Field{Name: "bio", Title: "Bio"}}
		email := &form.Email{Field: form.Field{Name: "email", Title: "Email"}}
		age := &form.Int{Field: form.Field{Name: "age", Title: "Age"}, Min: new(0), Max: new(150)}
		height := &form.Float{Field: form.Field{Name: "height", Title: "Height"}}
		born := &form.Date{Field: form.Field{Name: "born", Title: "Born"}}
		terms := &form.Checkbox{Field: form.Field{Name: "terms", Title: "I agree", Required: true}}
		color := &form.SingleSelect{Field: form.Field{Name: "color", Title: "Color"}, Options: []form.Option{{Value: "r", Label: "Red"}, {Value: "g", Label: "Green"}}}
		tags := &form.MultipleSelect{Field: form.Field{Name: "tags", Title: "Tags"}, Options: []form.Option{{Value: "a"}, {Value: "b"}, {Value: "c"}}}
		size := &form.Radio{Field: form.Field{Name: "size", Title: "Size"}, Options: []form.Option{{Value: "s"}, {Value: "m"}, {Value: "l"}}, Value: "m"}
		step := &form.Hidden{Field: form.Field{Name: "step"}, Value: "1"}
		photo := &form.File{Field: form.Field{Name: "photo", Title: "Photo"}, MaxSize: 100}
		save := &form.Submit{Field: form.Field{Name: "save"}, Label: "Save"}
		cancel := &form.Submit{Field: form.Field{Name: "cancel"}, Label: "Cancel"}
		f.Add(name, pw, bio, email, age, height, born, terms, color, tags, size, step, photo, save, cancel)
		if !f.IsSubmitted() || f.HasErrors() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if f.IsSubmitted() {
				w.WriteHeader(http.StatusUnprocessableEntity)
			}
			pageTemplate.Execute(w, f)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "name=%s pw=%s bio=%q email=%s age=%d height=%g born=%s terms=%v color=%s tags=%v size=%s step=%s save=%v cancel=%v\n",
			name.Value, pw.Value, bio.Value, email.Value, age.Value, height.Value, born.Value.Format("2006-01-02"), terms.Value, color.Value, tags.Value, size.Value, step.Value, save.Clicked, cancel.Clicked)
		if photo.Value != nil {
			fh, _ := photo.Value.Open()
			b, _ := io.ReadAll(fh)
			fh.Close()
			fmt.Fprintf(w, "photo=%s %q\n", photo.Value.Filename, b)
		}
	})
}

// pageTemplate shows that a form goes into html/template as it is.
var pageTemplate = template.Must(template.New("p").Parse(`<!DOCTYPE html><title>t</title>{{.Render}}`))

// TestFlow drives the form as a browser: show, fill, fail, fix, send.
func TestFlow(t *testing.T) {
	app := gopastetest.New(t, page(newCSRF(t)))
	app.Lint = true
	first := app.Get("/").MustStatus(200).MustContain(`enctype="multipart/form-data"`, `name="csrf_token"`, `value="1"`)
	// Errors: the values come back as typed, with the messages.
	bad := first.Form("").Set("name", "<b>Bob</b>").Set("age", "200").Set("email", "bob").Set("bio", "x\ny").Submit("save")
	bad.MustStatus(422).MustContain(
		`value="&lt;b&gt;Bob&lt;/b&gt;"`, `value="200"`, "Enter 150 or less.", `value="bob"`, form.EmailMessage, form.RequiredMessage, "x\ny</textarea>",
	).MustNotContain("<b>Bob")
	// Fixed and sent, with a file.
	ok := bad.Form("").Set("name", "Bob").Set("age", "42").Set("email", "bob@example.com").Set("terms", "on").
		Set("tags", "a").Set("tags", "c").Set("size", "l").Set("color", "g").Set("height", "1.8").Set("born", "1980-05-01").
		SetFile("photo", "me.png", []byte("PNG")).Submit("save")
	ok.MustStatus(200).MustContain(
		`name=Bob pw= bio="x\ny" email=bob@example.com age=42 height=1.8 born=1980-05-01 terms=true color=g tags=[a c] size=l step=1 save=true cancel=false`,
		`photo=me.png "PNG"`)
	// A file over MaxSize is refused; the other values stay.
	big := bad.Form("").Set("name", "Bob").Set("age", "1").Set("email", "").Set("terms", "on").
		SetFile("photo", "big.png", []byte(strings.Repeat("x", 101))).Submit("cancel")
	big.MustStatus(422).MustContain("The file is too large", `value="Bob"`)
}

var tokenRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post sends values to h with the cookies and headers given.
func post(h http.Handler, r0 *http.Request, values url.Values, header map[string]string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/", strings.NewReader(values.Encode())).WithContext(r0.Context())
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func minimal(c *form.CSRF) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form.New(w, r, c)
		name := &form.String{Field: form.Field{Name: "name"}}
		f.Add(name)
		if !f.IsSubmitted() || f.HasErrors() {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, string(f.Render()))
			return
		}
		io.WriteString(w, "ok "+name.Value)
	})
}

// TestCSRFCookie: without a session the token is bound to a cookie; a
// POST without the token, with another client's cookie or from another
// site is refused with the values kept.
func TestCSRFCookie(t *testing.T) {
	h := minimal(newCSRF(t))
	get := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, get)
	cookies := w.Result().Cookies()
	m := tokenRe.FindStringSubmatch(w.Body.String())
	if len(cookies) != 1 || cookies[0].Name != "form_csrf" || m == nil {
		t.Fatalf("cookies %v, page %s", cookies, w.Body)
	}
	token := m[1]
	other := []*http.Cookie{{Name: "form_csrf", Value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}
	for _, tc := range []struct {
		name    string
		values  url.Values
		header  map[string]string
		cookies []*http.Cookie
		ok      bool
	}{
		{"good", url.Values{"name": {"a"}, "csrf_token": {token}}, nil, cookies, true},
		{"same-origin", url.Values{"name": {"a"}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, cookies, true},
		{"no token", url.Values{"name": {"a"}}, nil, cookies, false},
		{"no cookie", url.Values{"name": {"a"}, "csrf_token": {token}}, nil, nil, false},
		{"other cookie", url.Values{"name": {"a"}, "csrf_token": {token}}, nil, other, false},
		{"cross-site", url.Values{"name": {"a"}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, cookies, false},
		{"other origin", url.Values{"name": {"a"}, "csrf_token": {token}}, map[string]string{"Origin": "https://evil.example"}, cookies, false},
	} {
		w := post(h, get, tc.values, tc.header, tc.cookies)
		if got := w.Code == 200; got != tc.ok {
			t.Errorf("%s: status %d, body %s", tc.name, w.Code, w.Body)
		}
		if !tc.ok && (!strings.Contains(w.Body.String(), template.HTMLEscapeString(form.ExpiredMessage)) || !strings.Contains(w.Body.String(), `value="a"`)) {
			t.Errorf("%s: no expired message or value lost: %s", tc.name, w.Body)
		}
	}
}

// TestCSRFSession: with a session the token is bound to it: no cookie
// is set, and another session's token is refused.
func TestCSRFSession(t *testing.T) {
	h := minimal(newCSRF(t))
	s1 := session.NewDetached()
	get := httptest.NewRequest("GET", "/", nil)
	get = get.WithContext(session.NewContext(get.Context(), s1))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, get)
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("cookie set with a session: %v", w.Result().Cookies())
	}
	token := tokenRe.FindStringSubmatch(w.Body.String())[1]
	if w := post(h, get, url.Values{"name": {"a"}, "csrf_token": {token}}, nil, nil); w.Code != 200 {
		t.Errorf("session token refused: %d %s", w.Code, w.Body)
	}
	// The token stays the same for the session's next forms.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, get)
	if again := tokenRe.FindStringSubmatch(w.Body.String())[1]; again != token {
		t.Errorf("token changed within a session: %q, %q", token, again)
	}
	s2 := session.NewDetached()
	get2 := get.WithContext(session.NewContext(get.Context(), s2))
	if w := post(h, get2, url.Values{"name": {"a"}, "csrf_token": {token}}, nil, nil); w.Code != 403 {
		t.Errorf("another session's token accepted: %d", w.Code)
	}
}

// TestCSRFThroughSessionFilter: the same through the session filter
// and a real store, as an application runs it.
func TestCSRFThroughSessionFilter(t *testing.T) {
	store := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { store.Close() })
	m, err := session.New(session.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	app := gopastetest.New(t, m.Handler(minimal(newCSRF(t))))
	page := app.Get("/").MustStatus(403)
	if _, ok := app.Cookie("/", "form_csrf"); ok {
		t.Error("a CSRF cookie was set beside the session")
	}
	page.Form("").Set("name", "x").Submit().MustStatus(200).MustContain("ok x")
	// A new client (no session cookie) with the old page's token fails.
	other := gopastetest.New(t, m.Handler(minimal(newCSRF(t))))
	other.Get("/")
	r := other.NewRequest("POST", "/", strings.NewReader(url.Values{"name": {"x"}, "csrf_token": {tokenRe.FindStringSubmatch(page.Body)[1]}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	other.Do(r).MustStatus(403)
}

// TestNoCSRF: a POST form built without CSRF protection is always
// refused; a GET form needs none.
func TestNoCSRF(t *testing.T) {
	w := post(minimal(nil), httptest.NewRequest("GET", "/", nil), url.Values{"name": {"a"}}, nil, nil)
	if w.Code != 403 {
		t.Errorf("POST form without CSRF accepted: %d", w.Code)
	}
	search := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form.New(w, r, nil)
		f.Method = "GET"
		f.Action = "/search"
		q := &form.String{Field: form.Field{Name: "q", Required: true}}
		f.Add(q)
		if !f.IsSubmitted() || f.HasErrors() {
			io.WriteString(w, string(f.Render()))
			return
		}
		io.WriteString(w, "results for "+q.Value)
	})
	app := gopastetest.New(t, search)
	got := app.Get("/").MustContain(`<form method="get" action="/search">`).MustNotContain("csrf_token")
	got.Form("").Set("q", "go").Submit().MustContain("results for go")
	app.Get("/search?q=").MustContain(form.RequiredMessage)
}

func TestTooLarge(t *testing.T) {
	c := newCSRF(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form.New(w, r, c)
		f.MaxBytes = 10
		f.Add(&form.String{Field: form.Field{Name: "name"}})
		if f.HasErrors() {
			io.WriteString(w, f.Error)
		}
	})
	w := post(h, httptest.NewRequest("GET", "/", nil), url.Values{"name": {strings.Repeat("x", 20)}}, nil, nil)
	if w.Body.String() != form.TooLargeMessage {
		t.Errorf("got %q", w.Body)
	}
}

// TestActionEscaped: a javascript: action never reaches the page.
func TestActionEscaped(t *testing.T) {
	f := form.New(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), nil)
	f.Action = "javascript:alert(1)"
	f.Error = "<b>x</b>"
	got := string(f.Render())
	if !strings.Contains(got, `action="#ZgotmplZ"`) || strings.Contains(got, "<b>") {
		t.Errorf("render: %s", got)
	}
}

func TestSetErrorAndWidget(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	f := form.New(w, r, nil)
	f.Method = "GET"
	name := &form.String{Field: form.Field{Name: "name"}}
	f.Add(name)
	if f.Widget("name") != name || f.Widget("nope") != nil || len(f.Widgets()) != 1 {
		t.Error("Widget lookup")
	}
	f.SetError("name", "taken")
	if name.Error != "taken" || !strings.Contains(string(f.Render()), "taken") {
		t.Errorf("SetError: %q", name.Error)
	}
}
