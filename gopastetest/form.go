package gopastetest

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// Form is an HTML form read from a response, with the values a browser
// would submit. Set changes them; Submit sends the form.
type Form struct {
	ID, Name string
	Action   string // as written; empty means the page's own URL
	Method   string // upper case; GET when not given
	Enctype  string // application/x-www-form-urlencoded unless given

	Fields []*Field // in document order

	resp *Response
}

// Field is one control of a form.
type Field struct {
	Name     string
	Type     string // input type (lower case), "textarea", "select" or "button"
	Value    string // text value; for checkbox and radio the value sent when checked
	Checked  bool   // checkbox and radio
	Disabled bool
	Multiple bool     // select multiple
	Options  []Option // select
	File     *File    // file: the file chosen with SetFile, nil for none
}

// File is a file chosen for a file input.
type File struct {
	Name        string // the file name sent
	ContentType string // "" means the type of the name's extension, else application/octet-stream
	Content     []byte
}

// Option is one option of a select.
type Option struct {
	Value    string
	Selected bool
}

// Form returns a form of the page: the one whose id or name is key, the
// key-th (from 0) when key is a number, or the first when key is empty.
// It fails the test when there is no such form.
func (r *Response) Form(key string) *Form {
	r.app.t.Helper()
	forms := parseForms(r.Body)
	for _, f := range forms {
		f.resp = r
	}
	if key == "" && len(forms) > 0 {
		return forms[0]
	}
	for _, f := range forms {
		if key != "" && (f.ID == key || f.Name == key) {
			return f
		}
	}
	if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(forms) {
		return forms[i]
	}
	r.app.t.Fatalf("no form %q among %d forms; response:\n%s", key, len(forms), r)
	return nil
}

// Forms returns every form of the page.
func (r *Response) Forms() []*Form {
	forms := parseForms(r.Body)
	for _, f := range forms {
		f.resp = r
	}
	return forms
}

// Get returns the value the form would send for name ("" when none).
func (f *Form) Get(name string) string {
	return f.Values().Get(name)
}

// Set fills the field called name, failing the test when there is none:
// text-like inputs and textareas take v as their text; a select selects
// the option whose value (or text) is v; radio buttons check the one whose
// value is v; checkboxes check the one whose value is v, and v == "" (or
// "off") unchecks every checkbox of that name.
func (f *Form) Set(name, v string) *Form {
	t := f.resp.app.t
	t.Helper()
	found := false
	for _, fl := range f.Fields {
		if fl.Name != name {
			continue
		}
		switch fl.Type {
		case "checkbox":
			if v == "" || v == "off" {
				fl.Checked, found = false, true
			} else if fl.Value == v || (v == "on" && fl.Value == "on") {
				fl.Checked, found = true, true
			}
		case "radio":
			fl.Checked = fl.Value == v
			found = found || fl.Checked
		case "select":
			ok := false
			for i := range fl.Options {
				if fl.Options[i].Value == v {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("form field %q has no option %q", name, v)
			}
			for i := range fl.Options {
				if fl.Options[i].Value == v {
					fl.Options[i].Selected = true
				} else if !fl.Multiple {
					fl.Options[i].Selected = false
				}
			}
			return f
		case "submit", "button", "image", "reset", "file":
			continue
		default:
			fl.Value = v
			return f
		}
	}
	if !found {
		t.Fatalf("form has no field %q that takes %q (fields: %s)", name, v, f.names())
	}
	return f
}

// SetFile chooses a file for the file input called name, as a user
// picking one: the form sends filename and content, typed by the
// name's extension as a browser does (application/octet-stream when
// unknown), when submitted. It fails the test when the
// form has no such input, or is not multipart/form-data (a browser
// would send the file name only).
func (f *Form) SetFile(name, filename string, content []byte) *Form {
	t := f.resp.app.t
	t.Helper()
	if f.Method != http.MethodPost || f.Enctype != "multipart/form-data" {
		t.Fatalf("form is not a multipart/form-data POST (method %s, enctype %q): it cannot upload %q", f.Method, f.Enctype, name)
	}
	for _, fl := range f.Fields {
		if fl.Name == name && fl.Type == "file" && !fl.Disabled {
			fl.File = &File{Name: filename, Content: content}
			return f
		}
	}
	t.Fatalf("form has no file input %q (fields: %s)", name, f.names())
	return f
}

func (f *Form) names() string {
	var ns []string
	for _, fl := range f.Fields {
		if fl.Name != "" {
			ns = append(ns, fl.Name+"("+fl.Type+")")
		}
	}
	return strings.Join(ns, " ")
}

// Values returns what the form would send without a submit button, as a
// browser builds it: enabled named controls, checked boxes, selected
// options (the first of a single select when none is marked).
func (f *Form) Values() url.Values {
	return f.values("")
}

func (f *Form) values(button string) url.Values {
	v := url.Values{}
	for _, fl := range f.Fields {
		if fl.Name == "" || fl.Disabled {
			continue
		}
		switch fl.Type {
		case "checkbox", "radio":
			if fl.Checked {
				val := fl.Value
				if val == "" {
					val = "on"
				}
				v.Add(fl.Name, val)
			}
		case "select":
			picked := false
			for _, o := range fl.Options {
				if o.Selected {
					v.Add(fl.Name, o.Value)
					picked = true
				}
			}
			if !picked && !fl.Multiple && len(fl.Options) > 0 {
				v.Add(fl.Name, fl.Options[0].Value)
			}
		case "submit", "image", "button":
			if button != "" && fl.Name == button {
				v.Add(fl.Name, fl.Value)
				button = "" // only the first of that name
			}
		case "reset", "file":
		default:
			v.Add(fl.Name, fl.Value)
		}
	}
	return v
}

// Submit sends the form, as if by clicking the submit button called
// button (none when omitted), and returns the response.
func (f *Form) Submit(button ...string) *Response {
	a := f.resp.app
	a.t.Helper()
	var b string
	if len(button) > 0 {
		b = button[0]
		found := false
		for _, fl := range f.Fields {
			if fl.Name == b && (fl.Type == "submit" || fl.Type == "image" || fl.Type == "button") {
				found = true
			}
		}
		if !found {
			a.t.Fatalf("form has no submit button %q (fields: %s)", b, f.names())
		}
	}
	vals := f.values(b)
	u, err := a.resolve(absURL(f.resp.Request), html.UnescapeString(f.Action))
	if err != nil {
		a.t.Fatalf("form action %q: %v", f.Action, err)
	}
	if f.Method != http.MethodPost {
		u.RawQuery = vals.Encode()
		return a.Do(newRequest(f.Method, u, nil))
	}
	var body io.Reader
	ct := "application/x-www-form-urlencoded"
	if f.Enctype == "multipart/form-data" {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, fl := range f.Fields { // keep document order
			if fl.Type == "file" && fl.Name != "" && !fl.Disabled {
				writeFile(mw, fl.Name, fl.File)
				continue
			}
			if vs, ok := vals[fl.Name]; ok {
				for _, v := range vs {
					mw.WriteField(fl.Name, v) // a bytes.Buffer does not fail
				}
				delete(vals, fl.Name)
			}
		}
		mw.Close()
		body, ct = &buf, mw.FormDataContentType()
	} else {
		body = strings.NewReader(vals.Encode())
	}
	req := newRequest(http.MethodPost, u, body)
	req.Header.Set("Content-Type", ct)
	return a.Do(req)
}

// writeFile writes the part of a file input as a browser does: the
// chosen file, or an empty part with an empty file name when none was
// chosen.
func writeFile(mw *multipart.Writer, name string, file *File) {
	if file == nil {
		file = &File{}
	}
	ct := file.ContentType
	if ct == "" && file.Name != "" {
		ct = mime.TypeByExtension(path.Ext(file.Name))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(name), quoteEscaper.Replace(file.Name)))
	h.Set("Content-Type", ct)
	pw, _ := mw.CreatePart(h) // a bytes.Buffer does not fail
	pw.Write(file.Content)
}

// quoteEscaper escapes a multipart header's quoted string as
// mime/multipart's CreateFormFile does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// This part is a small HTML scanner, enough to find forms and their
// controls: tags with attributes, text, comments and raw-text elements.

type tag struct {
	name  string // lower case; "/name" for an end tag
	attrs map[string]string
	text  string // for "#text": the text before the next tag
}

func (t tag) attr(k string) (string, bool) {
	v, ok := t.attrs[k]
	return v, ok
}

// scan splits doc into tags and text.
func scan(doc string) []tag {
	var out []tag
	for len(doc) > 0 {
		i := strings.IndexByte(doc, '<')
		if i < 0 {
			out = append(out, tag{name: "#text", text: doc})
			break
		}
		if i > 0 {
			out = append(out, tag{name: "#text", text: doc[:i]})
		}
		doc = doc[i:]
		switch {
		case strings.HasPrefix(doc, "<!--"):
			end := strings.Index(doc[4:], "-->")
			if end < 0 {
				return out
			}
			doc = doc[4+end+3:]
		case strings.HasPrefix(doc, "<!") || strings.HasPrefix(doc, "<?"):
			end := strings.IndexByte(doc, '>')
			if end < 0 {
				return out
			}
			doc = doc[end+1:]
		case len(doc) > 2 && doc[1] == '/' && isLetter(doc[2]):
			end := strings.IndexByte(doc, '>')
			if end < 0 {
				return out
			}
			name := doc[2:end]
			if j := strings.IndexAny(name, " \t\r\n/"); j >= 0 {
				name = name[:j]
			}
			out = append(out, tag{name: "/" + strings.ToLower(name)})
			doc = doc[end+1:]
		case len(doc) > 1 && isLetter(doc[1]):
			t, n := scanStartTag(doc)
			out = append(out, t)
			doc = doc[n:]
			switch t.name {
			case "script", "style", "textarea", "title":
				// Raw text up to the end tag.
				end := strings.Index(strings.ToLower(doc), "</"+t.name)
				if end < 0 {
					end = len(doc)
				}
				out = append(out, tag{name: "#text", text: doc[:end]})
				doc = doc[end:]
			}
		default:
			out = append(out, tag{name: "#text", text: "<"})
			doc = doc[1:]
		}
	}
	return out
}

func isLetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// scanStartTag reads "<name attr=value ...>" and returns the tag and its
// length; an unterminated tag runs to the end.
func scanStartTag(s string) (tag, int) {
	i := 1
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	t := tag{name: strings.ToLower(s[1:i]), attrs: map[string]string{}}
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return t, i + 1
		}
		j := i
		for j < len(s) && !isSpace(s[j]) && s[j] != '=' && s[j] != '>' && s[j] != '/' {
			j++
		}
		if j == i { // a stray character such as '='
			i++
			continue
		}
		key := strings.ToLower(s[i:j])
		i = j
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					val, i = s[i+1:], len(s)
				} else {
					val, i = s[i+1:i+1+end], i+1+end+1
				}
			} else {
				j := i
				for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
					j++
				}
				val, i = s[i:j], j
			}
		}
		if _, dup := t.attrs[key]; !dup {
			t.attrs[key] = html.UnescapeString(val)
		}
	}
	return t, len(s)
}

// parseForms finds the forms of doc and their controls. Controls outside
// any form (or tied to one with form=) are not supported.
func parseForms(doc string) []*Form {
	var forms []*Form
	var cur *Form
	var sel *Field      // open select
	var opt *Option     // open option without a value attribute; closed before the next is appended
	var optText *string // its text
	var area *Field     // open textarea
	closeOpt := func() {
		if opt != nil && optText != nil {
			opt.Value = strings.TrimSpace(collapse(html.UnescapeString(*optText)))
		}
		opt, optText = nil, nil
	}
	for _, t := range scan(doc) {
		switch t.name {
		case "form":
			m := strings.ToUpper(strings.TrimSpace(t.attrs["method"]))
			if m == "" {
				m = http.MethodGet
			}
			cur = &Form{ID: t.attrs["id"], Name: t.attrs["name"], Action: t.attrs["action"], Method: m,
				Enctype: strings.ToLower(strings.TrimSpace(t.attrs["enctype"]))}
			forms = append(forms, cur)
		case "/form":
			closeOpt()
			cur, sel, area = nil, nil, nil
		}
		if cur == nil {
			continue
		}
		_, disabled := t.attrs["disabled"]
		switch t.name {
		case "input":
			typ := strings.ToLower(t.attrs["type"])
			if typ == "" {
				typ = "text"
			}
			_, checked := t.attr("checked")
			v, hasValue := t.attr("value")
			if !hasValue && (typ == "checkbox" || typ == "radio") {
				v = "on"
			}
			cur.Fields = append(cur.Fields, &Field{Name: t.attrs["name"], Type: typ, Value: v, Checked: checked, Disabled: disabled})
		case "button":
			typ := strings.ToLower(t.attrs["type"])
			if typ == "" {
				typ = "submit"
			}
			cur.Fields = append(cur.Fields, &Field{Name: t.attrs["name"], Type: typ, Value: t.attrs["value"], Disabled: disabled})
		case "textarea":
			area = &Field{Name: t.attrs["name"], Type: "textarea", Disabled: disabled}
			cur.Fields = append(cur.Fields, area)
		case "/textarea":
			area = nil
		case "select":
			_, multiple := t.attr("multiple")
			sel = &Field{Name: t.attrs["name"], Type: "select", Multiple: multiple, Disabled: disabled}
			cur.Fields = append(cur.Fields, sel)
		case "/select":
			closeOpt()
			sel = nil
		case "option":
			closeOpt()
			if sel == nil {
				continue
			}
			_, selected := t.attr("selected")
			sel.Options = append(sel.Options, Option{Value: t.attrs["value"], Selected: selected})
			if _, ok := t.attr("value"); !ok {
				opt, optText = &sel.Options[len(sel.Options)-1], new(string)
			}
		case "/option":
			closeOpt()
		case "#text":
			if area != nil {
				text := html.UnescapeString(t.text)
				// A newline right after <textarea> is not part of the value.
				if area.Value == "" {
					text = strings.TrimPrefix(strings.TrimPrefix(text, "\r"), "\n")
				}
				area.Value += text
			} else if optText != nil {
				*optText += t.text
			}
		}
	}
	closeOpt()
	return forms
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
