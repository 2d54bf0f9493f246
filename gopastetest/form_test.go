package gopastetest

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// upload serves a multipart form with two file inputs and a text input,
// and echoes what a POST of it carries.
func upload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.Method == "GET" {
			io.WriteString(w, `<form method="post" enctype="multipart/form-data">
<input name="title" value="t"><input type="file" name="doc"><input type="file" name="other" accept=".png"></form>
<form method="post"><input type="file" name="doc"></form>`)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "title=%q\n", r.PostForm.Get("title"))
		for _, name := range []string{"doc", "other"} {
			f, h, err := r.FormFile(name)
			if err != nil {
				fmt.Fprintf(w, "%s: none (value %q)\n", name, r.PostForm[name])
				continue
			}
			b, _ := io.ReadAll(f)
			f.Close()
			fmt.Fprintf(w, "%s: %q %s %q\n", name, h.Filename, h.Header.Get("Content-Type"), b)
		}
	})
}

// TestSetFileUploads: a file chosen with SetFile is sent as a browser
// sends it (name, type by extension, content); a file input left empty
// sends an empty part with an empty file name.
func TestSetFileUploads(t *testing.T) {
	app := New(t, upload())
	got := app.Get("/").Form("0").SetFile("doc", `notes "v1".json`, []byte("hello\r\nworld")).Set("title", "T").Submit()
	got.MustStatus(200).MustContain(
		`title="T"`,
		`doc: "notes \"v1\".json" application/json "hello\r\nworld"`,
		`other: none (value [""])`,
	)
	got = app.Get("/").Form("0").Submit()
	got.MustStatus(200).MustContain(`doc: none (value [""])`)
	f := app.Get("/").Form("0")
	f.Fields[2].File = &File{Name: "x.bin", ContentType: "image/png", Content: []byte{0, 1}}
	f.Submit().MustContain(`other: "x.bin" image/png "\x00\x01"`)
}

func TestSetFileErrors(t *testing.T) {
	for _, tt := range []struct {
		form, field, want string
	}{
		{"0", "title", `no file input "title"`},
		{"0", "nope", `no file input "nope"`},
		{"1", "doc", `not a multipart/form-data POST`},
	} {
		ft := &fakeTB{}
		app := New(ft, upload())
		ft.run(func() { app.Get("/").Form(tt.form).SetFile(tt.field, "a.txt", nil) })
		if !ft.failedWith(tt.want) {
			t.Errorf("SetFile(%q) on form %s: failures %q lack %q", tt.field, tt.form, ft.msgs, tt.want)
		}
	}
}
