package form

import (
	"fmt"
	"html/template"
	"math"
	"mime/multipart"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Widget is one control of a form: it finds its value in the submitted
// input, validates it and renders itself. The widgets of this package
// are Widgets; a type of one's own embedding [Field] can be one too.
type Widget interface {
	// Base returns the widget's Field: its name, title and error.
	Base() *Field
	// Parse reads the widget's value from in and validates it,
	// setting the Field's Error when it is not valid. It is called
	// once, when the form is submitted.
	Parse(in *Input)
	// Render returns the widget's markup with its current value (what
	// the user typed, after a submission) and its error.
	Render() template.HTML
}

// Field is what every widget has. Name is required; the rest is
// optional.
type Field struct {
	Name     string // the control's name in the request
	Title    string // the label shown with it
	Hint     string // a help text shown under it
	Required bool   // an empty value is an error
	// Error is the message shown with the widget: set by Parse when the
	// value is not valid, or by the application ([Form.SetError]).
	Error string

	submitted bool // Parse ran: render the raw value, not Value
}

// Base returns f; widgets embedding a Field get it as their Base.
func (f *Field) Base() *Field { return f }

// Messages of the errors widgets set.
const (
	RequiredMessage = "This field is required."
	ChoiceMessage   = "Choose one of the options."
)

// first returns the first value of the field and whether it was sent.
func (f *Field) first(in *Input) (string, bool) {
	f.submitted = true
	vs, ok := in.Values[f.Name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// check sets Error when err is not nil.
func (f *Field) check(err error) {
	if err != nil && f.Error == "" {
		f.Error = err.Error()
	}
}

// lengths validates the length of s in characters.
func (f *Field) lengths(s string, minLen, maxLen int) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case minLen > 0 && n < minLen:
		f.Error = fmt.Sprintf("Enter at least %d characters.", minLen)
	case maxLen > 0 && n > maxLen:
		f.Error = fmt.Sprintf("Enter at most %d characters.", maxLen)
	default:
		return true
	}
	return false
}

// empty sets the required error when s is empty and reports whether it
// is (an empty optional value is not validated further).
func (f *Field) empty(s string) bool {
	if s != "" {
		return false
	}
	if f.Required {
		f.Error = RequiredMessage
	}
	return true
}

// String is a one-line text input.
type String struct {
	Field
	Value          string             // the value: the default before a submission, what was sent after
	MinLen, MaxLen int                // in characters; zero means no bound
	Check          func(string) error // custom validation of a non-empty value; its error text is shown
	raw            string
}

// Parse reads and validates the value; surrounding white space is
// trimmed from Value (not from what is redisplayed).
func (w *String) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = strings.TrimSpace(w.raw)
	if w.empty(w.Value) || !w.lengths(w.Value, w.MinLen, w.MaxLen) {
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the input with its label and error.
func (w *String) Render() template.HTML {
	return input(&w.Field, "string", "text", w.shown(w.Value, w.raw), w.MaxLen)
}

func (f *Field) shown(value, raw string) string {
	if f.submitted {
		return raw
	}
	return value
}

// Password is a password input. What was typed is never sent back.
type Password struct {
	Field
	Value          string
	MinLen, MaxLen int
	Check          func(string) error
}

// Parse reads and validates the value, not trimmed.
func (w *Password) Parse(in *Input) {
	w.Value, _ = w.first(in)
	if w.empty(w.Value) || !w.lengths(w.Value, w.MinLen, w.MaxLen) {
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns an empty password input.
func (w *Password) Render() template.HTML {
	return input(&w.Field, "password", "password", "", w.MaxLen)
}

// Text is a multi-line text area. Line ends are "\n" in Value.
type Text struct {
	Field
	Value          string
	MinLen, MaxLen int
	Rows, Cols     int // the area's size; zero means the browser's
	Check          func(string) error
	raw            string
}

// Parse reads and validates the value.
func (w *Text) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = strings.ReplaceAll(w.raw, "\r\n", "\n")
	if w.empty(strings.TrimSpace(w.Value)) || !w.lengths(w.Value, w.MinLen, w.MaxLen) {
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the text area with its label and error.
func (w *Text) Render() template.HTML {
	v := view{Field: &w.Field, Kind: "text", Value: w.shown(w.Value, w.raw), Rows: w.Rows, Cols: w.Cols}
	if w.MaxLen > 0 {
		v.MaxLength = strconv.Itoa(w.MaxLen)
	}
	return execute("textarea", v)
}

// Email is an email address input: a bare address ("a@example.com"),
// no display name.
type Email struct {
	Field
	Value string
	Check func(string) error
	raw   string
}

// EmailMessage is the error of a value that is not an address.
const EmailMessage = "Enter an email address."

// Parse reads and validates the address.
func (w *Email) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = strings.TrimSpace(w.raw)
	if w.empty(w.Value) {
		return
	}
	if a, err := mail.ParseAddress(w.Value); err != nil || a.Address != w.Value || a.Name != "" || len(w.Value) > 254 {
		w.Error = EmailMessage
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the input with its label and error.
func (w *Email) Render() template.HTML {
	return input(&w.Field, "email", "email", w.shown(w.Value, w.raw), 254)
}

// Hidden is a hidden input: a value the page carries from one request
// to the next. It has no label; its error counts but is not shown.
type Hidden struct {
	Field
	Value string
	Check func(string) error
	raw   string
}

// Parse reads and validates the value.
func (w *Hidden) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = w.raw
	if w.empty(w.Value) {
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the input.
func (w *Hidden) Render() template.HTML {
	return execute("hidden", view{Field: &w.Field, Value: w.shown(w.Value, w.raw)})
}

// Int is a whole number input. Before a submission a zero Value shows
// as an empty input; after one, an empty optional input is Value 0.
type Int struct {
	Field
	Value    int
	Min, Max *int // bounds, inclusive; nil means none (new(0) is zero)
	Check    func(int) error
	raw      string
}

// IntMessage is the error of a value that is not a whole number.
const IntMessage = "Enter a whole number."

// Parse reads and validates the number.
func (w *Int) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = 0
	s := strings.TrimSpace(w.raw)
	if w.empty(s) {
		return
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		w.Error = IntMessage
		return
	case w.Min != nil && n < *w.Min:
		w.Error = fmt.Sprintf("Enter %d or more.", *w.Min)
		return
	case w.Max != nil && n > *w.Max:
		w.Error = fmt.Sprintf("Enter %d or less.", *w.Max)
		return
	}
	w.Value = n
	if w.Check != nil {
		w.check(w.Check(n))
	}
}

// Render returns a number input with its bounds, label and error.
func (w *Int) Render() template.HTML {
	val := ""
	if w.Value != 0 {
		val = strconv.Itoa(w.Value)
	}
	v := view{Field: &w.Field, Kind: "int", Type: "number", Step: "1", Value: w.shown(val, w.raw)}
	if w.Min != nil {
		v.Min = strconv.Itoa(*w.Min)
	}
	if w.Max != nil {
		v.Max = strconv.Itoa(*w.Max)
	}
	return execute("input", v)
}

// Float is a number input taking decimals. Before a submission a zero
// Value shows as an empty input; after one, an empty optional input is
// Value 0.
type Float struct {
	Field
	Value    float64
	Min, Max *float64 // bounds, inclusive; nil means none
	Check    func(float64) error
	raw      string
}

// FloatMessage is the error of a value that is not a number.
const FloatMessage = "Enter a number."

// Parse reads and validates the number; NaN and infinities are refused.
func (w *Float) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = 0
	s := strings.TrimSpace(w.raw)
	if w.empty(s) {
		return
	}
	x, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(x) || math.IsInf(x, 0):
		w.Error = FloatMessage
		return
	case w.Min != nil && x < *w.Min:
		w.Error = "Enter " + fmtFloat(*w.Min) + " or more."
		return
	case w.Max != nil && x > *w.Max:
		w.Error = "Enter " + fmtFloat(*w.Max) + " or less."
		return
	}
	w.Value = x
	if w.Check != nil {
		w.check(w.Check(x))
	}
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Render returns a number input with its bounds, label and error.
func (w *Float) Render() template.HTML {
	val := ""
	if w.Value != 0 {
		val = fmtFloat(w.Value)
	}
	v := view{Field: &w.Field, Kind: "float", Type: "number", Step: "any", Value: w.shown(val, w.raw)}
	if w.Min != nil {
		v.Min = fmtFloat(*w.Min)
	}
	if w.Max != nil {
		v.Max = fmtFloat(*w.Max)
	}
	return execute("input", v)
}

// DateLayout is the format of a date input's value.
const DateLayout = time.DateOnly

// Date is a date input ("2006-01-02"); Value is midnight UTC, the zero
// time for none.
type Date struct {
	Field
	Value    time.Time
	Min, Max time.Time // bounds, inclusive; zero means none
	Check    func(time.Time) error
	raw      string
}

// DateMessage is the error of a value that is not a date.
const DateMessage = "Enter a date as YYYY-MM-DD."

// Parse reads and validates the date.
func (w *Date) Parse(in *Input) {
	w.raw, _ = w.first(in)
	w.Value = time.Time{}
	s := strings.TrimSpace(w.raw)
	if w.empty(s) {
		return
	}
	d, err := time.Parse(DateLayout, s)
	switch {
	case err != nil:
		w.Error = DateMessage
		return
	case !w.Min.IsZero() && d.Before(w.Min):
		w.Error = "Enter " + w.Min.Format(DateLayout) + " or later."
		return
	case !w.Max.IsZero() && d.After(w.Max):
		w.Error = "Enter " + w.Max.Format(DateLayout) + " or earlier."
		return
	}
	w.Value = d
	if w.Check != nil {
		w.check(w.Check(d))
	}
}

// Render returns a date input with its bounds, label and error.
func (w *Date) Render() template.HTML {
	val := ""
	if !w.Value.IsZero() {
		val = w.Value.Format(DateLayout)
	}
	v := view{Field: &w.Field, Kind: "date", Type: "date", Value: w.shown(val, w.raw)}
	if !w.Min.IsZero() {
		v.Min = w.Min.Format(DateLayout)
	}
	if !w.Max.IsZero() {
		v.Max = w.Max.Format(DateLayout)
	}
	return execute("input", v)
}

// Checkbox is a check box; Required means it must be checked (terms
// accepted).
type Checkbox struct {
	Field
	Value bool
}

// Parse reads whether the box was checked.
func (w *Checkbox) Parse(in *Input) {
	_, w.Value = w.first(in)
	if !w.Value && w.Required {
		w.Error = RequiredMessage
	}
}

// Render returns the box, its label and error.
func (w *Checkbox) Render() template.HTML {
	return execute("checkbox", view{Field: &w.Field, Kind: "checkbox", Checked: w.Value})
}

// Option is one choice of a select or a radio group.
type Option struct {
	Value string // sent when chosen
	Label string // shown; "" means Value
}

func options(opts []Option, chosen func(string) bool) []optionView {
	out := make([]optionView, len(opts))
	for i, o := range opts {
		l := o.Label
		if l == "" {
			l = o.Value
		}
		out[i] = optionView{Value: o.Value, Label: l, Selected: chosen(o.Value)}
	}
	return out
}

func hasOption(opts []Option, v string) bool {
	return slices.ContainsFunc(opts, func(o Option) bool { return o.Value == v })
}

// SingleSelect is a drop-down list of options, one chosen.
type SingleSelect struct {
	Field
	Options []Option
	Value   string // the chosen option's value
	Check   func(string) error
}

// Parse reads the choice; a value that is not an option is an error.
func (w *SingleSelect) Parse(in *Input) {
	w.Value, _ = w.first(in)
	parseChoice(&w.Field, w.Options, w.Value, w.Check)
}

func parseChoice(f *Field, opts []Option, v string, check func(string) error) {
	if v == "" && !hasOption(opts, "") {
		f.empty(v)
		return
	}
	if !hasOption(opts, v) {
		f.Error = ChoiceMessage
		return
	}
	if v == "" && f.Required {
		f.Error = RequiredMessage
		return
	}
	if check != nil {
		f.check(check(v))
	}
}

// Render returns the select with its label and error.
func (w *SingleSelect) Render() template.HTML {
	return execute("select", view{Field: &w.Field, Kind: "select", Options: options(w.Options, func(v string) bool { return v == w.Value })})
}

// Radio is a group of radio buttons, one chosen.
type Radio struct {
	Field
	Options []Option
	Value   string
	Check   func(string) error
}

// Parse reads the choice; a value that is not an option is an error.
func (w *Radio) Parse(in *Input) {
	w.Value, _ = w.first(in)
	parseChoice(&w.Field, w.Options, w.Value, w.Check)
}

// Render returns the group in a fieldset with its legend and error.
func (w *Radio) Render() template.HTML {
	return execute("radio", view{Field: &w.Field, Kind: "radio", Options: options(w.Options, func(v string) bool { return v == w.Value })})
}

// MultipleSelect is a list of options, any number chosen; Required
// means at least one.
type MultipleSelect struct {
	Field
	Options []Option
	Value   []string // the chosen values, in the order sent
	Size    int      // rows shown; zero means the browser's
	Check   func([]string) error
}

// Parse reads the choices; a value that is not an option is an error.
func (w *MultipleSelect) Parse(in *Input) {
	w.submitted = true
	w.Value = nil
	for _, v := range in.Values[w.Name] {
		if !hasOption(w.Options, v) {
			w.Error = ChoiceMessage
			return
		}
		if !slices.Contains(w.Value, v) {
			w.Value = append(w.Value, v)
		}
	}
	if len(w.Value) == 0 {
		if w.Required {
			w.Error = RequiredMessage
		}
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the select with its label and error.
func (w *MultipleSelect) Render() template.HTML {
	return execute("select", view{Field: &w.Field, Kind: "multiselect", Multiple: true, Rows: w.Size,
		Options: options(w.Options, func(v string) bool { return slices.Contains(w.Value, v) })})
}

// File is a file upload. Its form is sent as multipart/form-data. A
// browser cannot be given a file back: after an error the user picks
// it again.
type File struct {
	Field
	// Value is the uploaded file (Filename, Size, Header, Open), nil
	// when none was sent.
	Value *multipart.FileHeader
	// MaxSize bounds the file, in bytes; zero means only the form's
	// MaxBytes.
	MaxSize int64
	// Accept is the input's accept attribute (".png,image/jpeg"), a hint
	// to the browser; check the content with Check.
	Accept string
	Check  func(*multipart.FileHeader) error
}

// Parse reads the file.
func (w *File) Parse(in *Input) {
	w.submitted = true
	w.Value = nil
	if fs := in.Files[w.Name]; len(fs) > 0 && fs[0].Filename != "" {
		w.Value = fs[0]
	}
	if w.Value == nil {
		if w.Required {
			w.Error = RequiredMessage
		}
		return
	}
	if w.MaxSize > 0 && w.Value.Size > w.MaxSize {
		w.Error = fmt.Sprintf("The file is too large (at most %d bytes).", w.MaxSize)
		return
	}
	if w.Check != nil {
		w.check(w.Check(w.Value))
	}
}

// Render returns the file input with its label and error.
func (w *File) Render() template.HTML {
	return execute("input", view{Field: &w.Field, Kind: "file", Type: "file", Accept: w.Accept, NoValue: true})
}

// Submit is a submit button. Several let the user choose an action;
// Clicked tells which one was.
type Submit struct {
	Field
	Label   string // the button's text; "" means "Submit"
	Clicked bool   // set by Parse when this button submitted the form
}

// Parse reads whether this button was clicked.
func (w *Submit) Parse(in *Input) {
	_, w.Clicked = w.first(in)
}

// Render returns the button.
func (w *Submit) Render() template.HTML {
	l := w.Label
	if l == "" {
		l = "Submit"
	}
	return execute("submit", view{Field: &w.Field, Value: l})
}

var (
	_ Widget = (*String)(nil)
	_ Widget = (*Password)(nil)
	_ Widget = (*Text)(nil)
	_ Widget = (*Email)(nil)
	_ Widget = (*Hidden)(nil)
	_ Widget = (*Int)(nil)
	_ Widget = (*Float)(nil)
	_ Widget = (*Date)(nil)
	_ Widget = (*Checkbox)(nil)
	_ Widget = (*SingleSelect)(nil)
	_ Widget = (*Radio)(nil)
	_ Widget = (*MultipleSelect)(nil)
	_ Widget = (*File)(nil)
	_ Widget = (*Submit)(nil)
)
