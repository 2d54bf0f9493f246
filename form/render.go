package form

// This file renders widgets through html/template: every value goes
// through its contextual escaping.

import (
	"html/template"
	"strconv"
	"strings"
	"sync"
)

// view is what a widget's template sees.
type view struct {
	*Field
	Kind                      string // the widget's class
	Type                      string // the input's type
	Value                     string
	NoValue                   bool // a file input has no value attribute
	Checked, Multiple         bool
	Options                   []optionView
	Min, Max, Step, MaxLength string
	Accept                    string
	Rows, Cols                int
}

type optionView struct {
	Value, Label string
	Selected     bool
}

// ID returns the element id of the widget's control.
func (v view) ID() string { return "f-" + v.Name }

// widgets is parsed on first use, not at start: every gopaste process
// links this package, most never renders a form.
var widgets = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Parse(`
{{- define "begin" -}}
<form method="{{.Method}}"{{with .Action}} action="{{.}}"{{end}}{{with .Enctype}} enctype="{{.}}"{{end}}>
{{with .Token}}<input type="hidden" name="csrf_token" value="{{.}}">
{{end}}{{with .Error}}<p class="form-error" role="alert">{{.}}</p>
{{end}}
{{- end}}

{{- define "label" -}}
{{with .Title}}<label for="{{$.ID}}">{{.}}{{if $.Required}}<span class="required" aria-hidden="true">*</span>{{end}}</label>{{end}}
{{- end}}

{{- define "after" -}}
{{with .Error}}<p class="error" id="{{$.ID}}-error" role="alert">{{.}}</p>{{end}}{{with .Hint}}<p class="hint">{{.}}</p>{{end}}
{{- end}}

{{- define "described" -}}
{{if .Error}} aria-invalid="true" aria-describedby="{{.ID}}-error"{{end}}{{if .Required}} required{{end}}
{{- end}}

{{- define "input" -}}
<div class="widget {{.Kind}}{{if .Error}} has-error{{end}}">{{template "label" .}}<input type="{{.Type}}" id="{{.ID}}" name="{{.Name}}"{{if not .NoValue}} value="{{.Value}}"{{end}}
{{- with .MaxLength}} maxlength="{{.}}"{{end}}{{with .Min}} min="{{.}}"{{end}}{{with .Max}} max="{{.}}"{{end}}{{with .Step}} step="{{.}}"{{end}}{{with .Accept}} accept="{{.}}"{{end}}
{{- template "described" .}}>{{template "after" .}}</div>
{{end}}

{{- define "textarea" -}}
<div class="widget text{{if .Error}} has-error{{end}}">{{template "label" .}}<textarea id="{{.ID}}" name="{{.Name}}"
{{- with .Rows}} rows="{{.}}"{{end}}{{with .Cols}} cols="{{.}}"{{end}}{{with .MaxLength}} maxlength="{{.}}"{{end}}{{template "described" .}}>
{{.Value}}</textarea>{{template "after" .}}</div>
{{end}}

{{- define "hidden" -}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}

{{- define "checkbox" -}}
<div class="widget checkbox{{if .Error}} has-error{{end}}"><input type="checkbox" id="{{.ID}}" name="{{.Name}}" value="on"{{if .Checked}} checked{{end}}{{template "described" .}}>{{template "label" .}}{{template "after" .}}</div>
{{end}}

{{- define "select" -}}
<div class="widget {{.Kind}}{{if .Error}} has-error{{end}}">{{template "label" .}}<select id="{{.ID}}" name="{{.Name}}"{{if .Multiple}} multiple{{end}}{{with .Rows}} size="{{.}}"{{end}}{{template "described" .}}>
{{- range .Options}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end -}}
</select>{{template "after" .}}</div>
{{end}}

{{- define "radio" -}}
<fieldset class="widget radio{{if .Error}} has-error{{end}}" id="{{.ID}}">{{with .Title}}<legend>{{.}}{{if $.Required}}<span class="required" aria-hidden="true">*</span>{{end}}</legend>{{end}}
{{- range .Options}}<label><input type="radio" name="{{$.Name}}" value="{{.Value}}"{{if .Selected}} checked{{end}}{{if $.Required}} required{{end}}> {{.Label}}</label>{{end -}}
{{template "after" .}}</fieldset>
{{end}}

{{- define "submit" -}}
<div class="widget submit"><button type="submit" name="{{.Name}}" value="{{.Value}}">{{.Value}}</button></div>
{{end}}
`))
})

// execute renders the widget template name with data. The templates are
// this package's and the data its own types, so a failure is a bug in
// this package: it panics.
func execute(name string, data any) template.HTML {
	var b strings.Builder
	if err := widgets().ExecuteTemplate(&b, name, data); err != nil {
		panic("form: " + err.Error())
	}
	return template.HTML(b.String())
}

// input renders a text-like input.
func input(f *Field, kind, typ, value string, maxLen int) template.HTML {
	v := view{Field: f, Kind: kind, Type: typ, Value: value}
	if maxLen > 0 {
		v.MaxLength = strconv.Itoa(maxLen)
	}
	return execute("input", v)
}
