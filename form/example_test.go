package form_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/gopaste/gopaste/form"
)

// The Quixote way: the handler builds the form, shows it until it is
// submitted without errors, then uses the widgets' values.
func ExampleForm() {
	csrf, err := form.NewCSRF(form.CSRFOptions{Secret: "a secret of at least 16 bytes"})
	if err != nil {
		panic(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form.New(w, r, csrf)
		age := &form.Int{Field: form.Field{Name: "age", Title: "Age", Required: true}, Min: new(0)}
		f.Add(age, &form.Submit{Field: form.Field{Name: "go"}, Label: "Go"})
		if !f.IsSubmitted() || f.HasErrors() {
			fmt.Fprint(w, f.Render())
			return
		}
		fmt.Fprintf(w, "You are %d.\n", age.Value)
	})

	// A browser gets the form, with its token and cookie...
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	cookie := w.Result().Cookies()[0]
	send := func(age string) string {
		body := url.Values{"csrf_token": {token}, "age": {age}, "go": {"Go"}}.Encode()
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Body.String()
	}
	// ...sends a bad value and gets the form back with it and the error...
	for _, line := range strings.Split(send("-3"), "\n") {
		if strings.Contains(line, `"f-age"`) {
			fmt.Println(line)
		}
	}
	// ...and a good one.
	fmt.Print(send("42"))
	// Output:
	// <div class="widget int has-error"><label for="f-age">Age<span class="required" aria-hidden="true">*</span></label><input type="number" id="f-age" name="age" value="-3" min="0" step="1" aria-invalid="true" aria-describedby="f-age-error" required><p class="error" id="f-age-error" role="alert">Enter 0 or more.</p></div>
	// You are 42.
}

// A widget renders itself through html/template: what it shows is
// escaped.
func ExampleString_Render() {
	w := &form.String{Field: form.Field{Name: "q", Title: "Search", Hint: `e.g. "go" <b>`}, Value: `"><script>`}
	fmt.Println(w.Render())
	// Output:
	// <div class="widget string"><label for="f-q">Search</label><input type="text" id="f-q" name="q" value="&#34;&gt;&lt;script&gt;"><p class="hint">e.g. &#34;go&#34; &lt;b&gt;</p></div>
}
