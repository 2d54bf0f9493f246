package form_test

import (
	"errors"
	"fmt"
	"html/template"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/form"
)

func in(kv ...string) *form.Input {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return &form.Input{Values: v}
}

var errOdd = errors.New("Must be even.")

func even(n int) error {
	if n%2 != 0 {
		return errOdd
	}
	return nil
}

func f(name string, required bool) form.Field { return form.Field{Name: name, Required: required} }

func date(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// TestParse: each widget's value and error from what was sent.
func TestParse(t *testing.T) {
	colors := []form.Option{{Value: "r", Label: "Red"}, {Value: "g"}}
	for _, tc := range []struct {
		name  string
		w     form.Widget
		in    *form.Input
		value any // the widget's Value after Parse (when no error)
		err   string
	}{
		{"string", &form.String{Field: f("s", true)}, in("s", "  hi  "), "hi", ""},
		{"string required", &form.String{Field: f("s", true)}, in("s", "   "), nil, form.RequiredMessage},
		{"string missing optional", &form.String{Field: f("s", false)}, in(), "", ""},
		{"string maxlen runes", &form.String{Field: f("s", false), MaxLen: 2}, in("s", "éé"), "éé", ""},
		{"string too long", &form.String{Field: f("s", false), MaxLen: 2}, in("s", "abc"), nil, "Enter at most 2 characters."},
		{"string too short", &form.String{Field: f("s", false), MinLen: 4}, in("s", "abc"), nil, "Enter at least 4 characters."},
		{"string check", &form.String{Field: f("s", false), Check: func(s string) error { return fmt.Errorf("no %s", s) }}, in("s", "x"), nil, "no x"},
		{"password kept as sent", &form.Password{Field: f("p", true)}, in("p", " pw "), " pw ", ""},
		{"password required", &form.Password{Field: f("p", true)}, in(), nil, form.RequiredMessage},
		{"text crlf", &form.Text{Field: f("t", false)}, in("t", "a\r\nb"), "a\nb", ""},
		{"text blank required", &form.Text{Field: f("t", true)}, in("t", "\r\n "), nil, form.RequiredMessage},
		{"email", &form.Email{Field: f("e", true)}, in("e", " a@example.com "), "a@example.com", ""},
		{"email with name", &form.Email{Field: f("e", true)}, in("e", "Al <a@example.com>"), nil, form.EmailMessage},
		{"email bad", &form.Email{Field: f("e", true)}, in("e", "a@"), nil, form.EmailMessage},
		{"hidden", &form.Hidden{Field: f("h", false)}, in("h", " x "), " x ", ""},
		{"int", &form.Int{Field: f("i", true), Min: new(0), Max: new(10)}, in("i", " 4 "), 4, ""},
		{"int not a number", &form.Int{Field: f("i", true)}, in("i", "4.5"), nil, form.IntMessage},
		{"int below", &form.Int{Field: f("i", true), Min: new(0)}, in("i", "-1"), nil, "Enter 0 or more."},
		{"int above", &form.Int{Field: f("i", true), Max: new(10)}, in("i", "11"), nil, "Enter 10 or less."},
		{"int check", &form.Int{Field: f("i", true), Check: even}, in("i", "3"), nil, "Must be even."},
		{"int empty optional", &form.Int{Field: f("i", false), Value: 7}, in("i", ""), 0, ""},
		{"float empty optional", &form.Float{Field: f("x", false), Value: 7}, in(), 0, ""},
		{"date empty optional", &form.Date{Field: f("d", false), Value: date("2024-01-01")}, in("d", " "), time.Time{}, ""},
		{"float", &form.Float{Field: f("x", true), Min: new(0.5)}, in("x", "1e1"), 10.0, ""},
		{"float NaN", &form.Float{Field: f("x", true)}, in("x", "NaN"), nil, form.FloatMessage},
		{"float inf", &form.Float{Field: f("x", true)}, in("x", "+Inf"), nil, form.FloatMessage},
		{"float below", &form.Float{Field: f("x", true), Min: new(0.5)}, in("x", "0.25"), nil, "Enter 0.5 or more."},
		{"date", &form.Date{Field: f("d", true)}, in("d", "2024-02-29"), date("2024-02-29"), ""},
		{"date bad", &form.Date{Field: f("d", true)}, in("d", "2023-02-29"), nil, form.DateMessage},
		{"date early", &form.Date{Field: f("d", true), Min: date("2024-01-01")}, in("d", "2023-12-31"), nil, "Enter 2024-01-01 or later."},
		{"date late", &form.Date{Field: f("d", true), Max: date("2024-01-01")}, in("d", "2024-01-02"), nil, "Enter 2024-01-01 or earlier."},
		{"checkbox on", &form.Checkbox{Field: f("c", false)}, in("c", "on"), true, ""},
		{"checkbox off", &form.Checkbox{Field: f("c", false), Value: true}, in(), false, ""},
		{"checkbox required", &form.Checkbox{Field: f("c", true)}, in(), nil, form.RequiredMessage},
		{"select", &form.SingleSelect{Field: f("c", true), Options: colors}, in("c", "g"), "g", ""},
		{"select not an option", &form.SingleSelect{Field: f("c", false), Options: colors}, in("c", "b"), nil, form.ChoiceMessage},
		{"select required", &form.SingleSelect{Field: f("c", true), Options: colors}, in(), nil, form.RequiredMessage},
		{"select empty option required", &form.SingleSelect{Field: f("c", true), Options: append([]form.Option{{Value: ""}}, colors...)}, in("c", ""), nil, form.RequiredMessage},
		{"select empty option", &form.SingleSelect{Field: f("c", false), Options: append([]form.Option{{Value: ""}}, colors...)}, in("c", ""), "", ""},
		{"radio", &form.Radio{Field: f("c", true), Options: colors}, in("c", "r"), "r", ""},
		{"radio forged", &form.Radio{Field: f("c", true), Options: colors}, in("c", "<x>"), nil, form.ChoiceMessage},
		{"multiple", &form.MultipleSelect{Field: f("c", true), Options: colors}, &form.Input{Values: url.Values{"c": {"g", "r", "g"}}}, []string{"g", "r"}, ""},
		{"multiple none", &form.MultipleSelect{Field: f("c", true), Options: colors}, in(), nil, form.RequiredMessage},
		{"multiple forged", &form.MultipleSelect{Field: f("c", false), Options: colors}, &form.Input{Values: url.Values{"c": {"g", "x"}}}, nil, form.ChoiceMessage},
		{"submit clicked", &form.Submit{Field: f("go", false)}, in("go", "Go"), true, ""},
		{"submit not clicked", &form.Submit{Field: f("go", false)}, in("other", "x"), false, ""},
		{"file missing", &form.File{Field: f("up", true)}, &form.Input{Files: map[string][]*multipart.FileHeader{"up": {{Filename: ""}}}}, nil, form.RequiredMessage},
		{"file too big", &form.File{Field: f("up", true), MaxSize: 3}, &form.Input{Files: map[string][]*multipart.FileHeader{"up": {{Filename: "a", Size: 4}}}}, nil, "The file is too large (at most 3 bytes)."},
		{"file", &form.File{Field: f("up", true), MaxSize: 3}, &form.Input{Files: map[string][]*multipart.FileHeader{"up": {{Filename: "a", Size: 3}}}}, "a", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Values == nil {
				tc.in.Values = url.Values{}
			}
			tc.w.Parse(tc.in)
			if got := tc.w.Base().Error; got != tc.err {
				t.Fatalf("Error = %q, want %q", got, tc.err)
			}
			if tc.err != "" {
				if !strings.Contains(string(tc.w.Render()), template.HTMLEscapeString(tc.err)) {
					t.Errorf("error not rendered: %s", tc.w.Render())
				}
				return
			}
			if got := value(tc.w); fmt.Sprint(got) != fmt.Sprint(tc.value) {
				t.Errorf("Value = %v, want %v", got, tc.value)
			}
		})
	}
}

func value(w form.Widget) any {
	switch w := w.(type) {
	case *form.String:
		return w.Value
	case *form.Password:
		return w.Value
	case *form.Text:
		return w.Value
	case *form.Email:
		return w.Value
	case *form.Hidden:
		return w.Value
	case *form.Int:
		return w.Value
	case *form.Float:
		return w.Value
	case *form.Date:
		return w.Value
	case *form.Checkbox:
		return w.Value
	case *form.SingleSelect:
		return w.Value
	case *form.Radio:
		return w.Value
	case *form.MultipleSelect:
		return w.Value
	case *form.Submit:
		return w.Clicked
	case *form.File:
		return w.Value.Filename
	}
	panic("unknown widget")
}

// TestRender: a widget shows its default before a submission and what
// was typed after it, with its bounds as attributes; a password is
// never shown.
func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w      form.Widget
		in     *form.Input // nil: not submitted
		want   []string
		absent []string
	}{
		{"string default", &form.String{Field: form.Field{Name: "s", Title: "Name", Hint: "as on your passport", Required: true}, Value: "Al", MaxLen: 9}, nil,
			[]string{`<label for="f-s">Name<span class="required" aria-hidden="true">*</span></label>`, `<input type="text" id="f-s" name="s" value="Al" maxlength="9" required>`, `<p class="hint">as on your passport</p>`}, nil},
		{"string raw", &form.String{Field: f("s", false), Value: "Al"}, in("s", " typed "), []string{`value=" typed "`}, nil},
		{"int raw", &form.Int{Field: f("i", false), Min: new(1), Max: new(5)}, in("i", "x1"), []string{`type="number"`, `value="x1"`, `min="1"`, `max="5"`, `step="1"`, `aria-invalid="true"`, `aria-describedby="f-i-error"`, `<p class="error" id="f-i-error" role="alert">Enter a whole number.</p>`}, nil},
		{"int default", &form.Int{Field: f("i", false), Value: 3}, nil, []string{`value="3"`}, []string{"min=", "max="}},
		{"int zero", &form.Int{Field: f("i", false)}, nil, []string{`value=""`}, nil},
		{"int zero typed", &form.Int{Field: f("i", false)}, in("i", "0"), []string{`value="0"`}, nil},
		{"float zero", &form.Float{Field: f("x", false)}, nil, []string{`value=""`}, nil},
		{"float", &form.Float{Field: f("x", false), Value: 0.5}, nil, []string{`value="0.5"`, `step="any"`}, nil},
		{"date", &form.Date{Field: f("d", false), Value: date("2024-03-01"), Min: date("2024-01-01")}, nil, []string{`type="date"`, `value="2024-03-01"`, `min="2024-01-01"`}, nil},
		{"date empty", &form.Date{Field: f("d", false)}, nil, []string{`value=""`}, nil},
		{"password", &form.Password{Field: f("p", false), Value: "secret"}, in("p", "typed"), []string{`type="password"`, `value=""`}, []string{"secret", "typed"}},
		{"email", &form.Email{Field: f("e", false)}, in("e", "nope"), []string{`type="email"`, `value="nope"`}, nil},
		{"text", &form.Text{Field: f("t", false), Rows: 3, Cols: 40}, in("t", "\nline"), []string{`<textarea id="f-t" name="t" rows="3" cols="40">` + "\n\nline</textarea>"}, nil},
		{"hidden", &form.Hidden{Field: f("h", false), Value: "v"}, nil, []string{`<input type="hidden" name="h" value="v">`}, []string{"label"}},
		{"checkbox", &form.Checkbox{Field: form.Field{Name: "c", Title: "OK"}, Value: true}, nil, []string{`<input type="checkbox" id="f-c" name="c" value="on" checked>`, `<label for="f-c">OK</label>`}, nil},
		{"checkbox unchecked after submit", &form.Checkbox{Field: f("c", false), Value: true}, in(), nil, []string{"checked"}},
		{"select", &form.SingleSelect{Field: f("s", false), Options: []form.Option{{Value: "a", Label: "A"}, {Value: "b"}}, Value: "b"}, nil,
			[]string{`<select id="f-s" name="s"><option value="a">A</option><option value="b" selected>b</option></select>`}, nil},
		{"multiple", &form.MultipleSelect{Field: f("m", false), Options: []form.Option{{Value: "a"}, {Value: "b"}, {Value: "c"}}, Size: 3}, &form.Input{Values: url.Values{"m": {"a", "c"}}},
			[]string{`<select id="f-m" name="m" multiple size="3"><option value="a" selected>a</option><option value="b">b</option><option value="c" selected>c</option></select>`}, nil},
		{"radio", &form.Radio{Field: form.Field{Name: "r", Title: "Pick", Required: true}, Options: []form.Option{{Value: "a"}, {Value: "b"}}}, in("r", "b"),
			[]string{`<legend>Pick<span`, `<label><input type="radio" name="r" value="a" required> a</label><label><input type="radio" name="r" value="b" checked required> b</label>`}, nil},
		{"file", &form.File{Field: f("up", false), Accept: ".png"}, nil, []string{`<input type="file" id="f-up" name="up" accept=".png">`}, []string{"value="}},
		{"submit", &form.Submit{Field: f("go", false), Label: "Go!"}, nil, []string{`<button type="submit" name="go" value="Go!">Go!</button>`}, nil},
		{"submit default label", &form.Submit{Field: f("go", false)}, nil, []string{`>Submit</button>`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in != nil {
				tc.w.Parse(tc.in)
			}
			got := string(tc.w.Render())
			for _, s := range tc.want {
				if !strings.Contains(got, s) {
					t.Errorf("render lacks %s:\n%s", s, got)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(got, s) {
					t.Errorf("render has %s:\n%s", s, got)
				}
			}
		})
	}
}

// TestRenderXSS: what a user typed, and labels, hints, options and
// errors from anywhere, are escaped in every context they land in.
func TestRenderXSS(t *testing.T) {
	const evil = `"'><script>alert(1)</script>`
	opts := []form.Option{{Value: evil, Label: evil}}
	ws := []form.Widget{
		&form.String{Field: form.Field{Name: evil, Title: evil, Hint: evil}},
		&form.Text{Field: form.Field{Name: "t", Title: evil}},
		&form.Email{Field: form.Field{Name: "e"}},
		&form.Hidden{Field: form.Field{Name: "h"}},
		&form.Int{Field: form.Field{Name: "i"}},
		&form.Float{Field: form.Field{Name: "x"}},
		&form.Date{Field: form.Field{Name: "d"}},
		&form.Checkbox{Field: form.Field{Name: "c", Title: evil}},
		&form.SingleSelect{Field: form.Field{Name: "s", Title: evil}, Options: opts},
		&form.MultipleSelect{Field: form.Field{Name: "m"}, Options: opts},
		&form.Radio{Field: form.Field{Name: "r", Title: evil}, Options: opts},
		&form.Submit{Field: form.Field{Name: "go"}, Label: evil},
		&form.String{Field: form.Field{Name: "check"}, Check: func(string) error { return errors.New(evil) }},
	}
	input := in(evil, evil, "t", "</textarea>"+evil, "e", evil, "h", evil, "i", evil, "x", evil, "d", evil, "s", evil, "m", evil, "r", evil, "check", "x")
	for _, w := range ws {
		w.Parse(input)
		got := string(w.Render())
		if strings.Contains(got, "<script") || strings.Count(got, "</textarea>") > 1 || strings.Contains(got, `"'>`) {
			t.Errorf("%T renders markup from input:\n%s", w, got)
		}
	}
}
