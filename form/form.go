package form

import (
	"errors"
	"html/template"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// DefaultMaxBytes bounds the body of a submitted form, files included,
// when [Form.MaxBytes] is zero.
const DefaultMaxBytes = 32 << 20

// maxMemory is how much of a multipart form is held in memory; the
// rest of the files go to temporary files.
const maxMemory = 1 << 20

// TokenName is the name of the hidden input carrying the CSRF token.
const TokenName = "csrf_token"

// Messages of the form-level errors.
const (
	ExpiredMessage  = "The form expired or came from another site; please send it again."
	TooLargeMessage = "The form is too large."
	BadFormMessage  = "The form could not be read."
)

// Form is a form of widgets for one request. Set the exported fields
// before the first call to a method.
type Form struct {
	// Action is the URL the form posts to; "" means the page's own URL.
	Action string
	// Method is "POST" (when "") or "GET". A GET form (a search) has
	// no CSRF token.
	Method string
	// MaxBytes bounds the submitted body; zero means DefaultMaxBytes.
	MaxBytes int64
	// Error is a form-level error, shown above the widgets: set when
	// the token or the body is refused, or by the application (a login
	// that failed).
	Error string

	w       http.ResponseWriter
	r       *http.Request
	csrf    *CSRF
	token   string
	widgets []Widget
	parsed  bool
}

// New returns an empty form for the request r, answered on w. c makes
// and checks its CSRF token; nil means no token, for GET forms only
// (a POST form without one is refused: see [Form.HasErrors]).
//
// New makes the token at once: it may set a cookie on w or a value in
// the session, which must happen before the response starts. So build
// the form before writing anything, as a handler does anyway.
func New(w http.ResponseWriter, r *http.Request, c *CSRF) *Form {
	f := &Form{w: w, r: r, csrf: c}
	if c != nil {
		f.token = c.Token(w, r)
	}
	return f
}

// Add appends widgets to the form, in the order they render.
func (f *Form) Add(ws ...Widget) {
	f.widgets = append(f.widgets, ws...)
}

// Widget returns the widget called name, nil when there is none.
func (f *Form) Widget(name string) Widget {
	for _, w := range f.widgets {
		if w.Base().Name == name {
			return w
		}
	}
	return nil
}

// Widgets returns the form's widgets in order.
func (f *Form) Widgets() []Widget { return f.widgets }

// SetError sets the error shown with the widget called name (a check
// only the application can make, such as "this name is taken"); the
// form then has errors.
func (f *Form) SetError(name, msg string) {
	if w := f.Widget(name); w != nil {
		w.Base().Error = msg
	}
}

func (f *Form) method() string {
	if strings.EqualFold(f.Method, http.MethodGet) {
		return http.MethodGet
	}
	return http.MethodPost
}

// IsSubmitted reports whether the request submits this form: a POST
// for a POST form; for a GET form, a query naming one of its widgets.
func (f *Form) IsSubmitted() bool {
	if f.method() == http.MethodPost {
		return f.r.Method == http.MethodPost
	}
	q := f.r.URL.Query()
	for _, w := range f.widgets {
		if _, ok := q[w.Base().Name]; ok {
			return true
		}
	}
	return false
}

// HasErrors parses and validates the submitted form (once) and reports
// whether a widget or the form has an error. A form not submitted has
// none.
func (f *Form) HasErrors() bool {
	if !f.IsSubmitted() {
		return false
	}
	f.parse()
	if f.Error != "" {
		return true
	}
	for _, w := range f.widgets {
		if w.Base().Error != "" {
			return true
		}
	}
	return false
}

// parse reads the submitted values into the widgets and checks the
// token.
func (f *Form) parse() {
	if f.parsed {
		return
	}
	f.parsed = true
	in := &Input{}
	if f.method() == http.MethodGet {
		in.Values = f.r.URL.Query()
	} else {
		max := f.MaxBytes
		if max == 0 {
			max = DefaultMaxBytes
		}
		f.r.Body = http.MaxBytesReader(f.w, f.r.Body, max)
		var err error
		if strings.HasPrefix(f.r.Header.Get("Content-Type"), "multipart/form-data") {
			err = f.r.ParseMultipartForm(maxMemory)
		} else {
			err = f.r.ParseForm()
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				f.Error = TooLargeMessage
			} else {
				f.Error = BadFormMessage
			}
		}
		in.Values = f.r.PostForm
		if in.Values == nil {
			in.Values = url.Values{}
		}
		if f.r.MultipartForm != nil {
			in.Files = f.r.MultipartForm.File
		}
		if f.Error == "" && (f.csrf == nil || !f.csrf.Valid(f.r, in.Values.Get(TokenName))) {
			f.Error = ExpiredMessage
		}
	}
	for _, w := range f.widgets {
		w.Parse(in)
	}
}

// Render returns the whole form: [Form.Begin], every widget, [Form.End].
func (f *Form) Render() template.HTML {
	var b strings.Builder
	b.WriteString(string(f.Begin()))
	for _, w := range f.widgets {
		b.WriteString(string(w.Render()))
	}
	b.WriteString(string(f.End()))
	return template.HTML(b.String())
}

// Begin returns the form's start tag, its CSRF token input and its
// form-level error, for a template that lays the widgets out itself.
func (f *Form) Begin() template.HTML {
	d := struct {
		Action, Method, Enctype, Token, Error string
	}{Action: f.Action, Method: strings.ToLower(f.method()), Error: f.Error}
	for _, w := range f.widgets {
		if _, ok := w.(*File); ok {
			d.Enctype = "multipart/form-data"
		}
	}
	if d.Method == "post" {
		d.Token = f.token
	}
	return execute("begin", d)
}

// End returns "</form>".
func (f *Form) End() template.HTML { return "</form>\n" }

// Input is what a submitted form carries, as widgets parse it.
type Input struct {
	Values url.Values                         // the fields (query or body)
	Files  map[string][]*multipart.FileHeader // the files of a multipart body
}
