// Package form builds HTML forms of widgets that find their values in
// the request, validate them, keep what the user typed for redisplay and
// render themselves with their error, as Quixote's forms do:
//
//	f := form.New(w, r, csrf)
//	name := &form.String{Field: form.Field{Name: "name", Title: "Your name", Required: true}}
//	f.Add(name, &form.Submit{Field: form.Field{Name: "go"}, Label: "Go"})
//	if !f.IsSubmitted() || f.HasErrors() {
//		page.Execute(w, f.Render()) // the form, with what was typed and the errors
//		return
//	}
//	// name.Value is the validated value
//
// The widgets are [String], [Password], [Text], [Checkbox],
// [SingleSelect], [MultipleSelect], [Radio], [Hidden], [File], [Submit],
// [Int], [Float], [Email] and [Date]; each embeds [Field] (name, title,
// hint, required, error) and has typed bounds and a Check func for
// custom validation. A type of one's own that implements [Widget] works
// too.
//
// Rendering goes through html/template: [Form.Render] and each widget's
// Render return [template.HTML] built by html/template's contextual
// escaping, never by concatenating what a user typed, so they go into a
// page's own templates as they are ({{.Form}}), or piece by piece
// ({{.Form.Begin}} {{.Name.Render}} ... {{.Form.End}}).
//
// A POST form carries a CSRF token ([CSRF]), bound to the user's session
// when the request has one (session.From) and to a cookie otherwise, and
// cross-origin POSTs are refused as [http.CrossOriginProtection] refuses
// them; a form that fails either check has an error asking to send it
// again, with the values kept. The token scheme is the login app's
// (gopaste/internal/csrf).
//
// A Form serves one request: build it in the handler, as Quixote does.
// It is not safe for concurrent use. Files uploaded through [File] are
// in the request's multipart form, removed by net/http when the handler
// returns.
package form
