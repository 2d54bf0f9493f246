package example

import (
	"errors"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/mount"
)

// sign shows the guestbook's form until it is sent without errors,
// then adds the entry and redirects to the home page.
func (s *Site) sign(w http.ResponseWriter, r *http.Request) {
	f := form.New(w, r, s.csrf)
	name := &form.String{Field: form.Field{Name: "name", Title: "Your name", Required: true}, MaxLen: 40}
	message := &form.Text{Field: form.Field{Name: "message", Title: "Message", Required: true}, MaxLen: 500, Rows: 4}
	photo := &form.File{Field: form.Field{Name: "photo", Title: "A photo", Hint: "PNG, up to 1 MB"},
		MaxSize: 1 << 20, Accept: ".png", Check: isPNG}
	f.Add(name, message, photo, &form.Submit{Field: form.Field{Name: "send"}, Label: "Sign"})

	if !f.IsSubmitted() || f.HasErrors() {
		s.render(w, "sign", map[string]any{"Form": f.Render()})
		return
	}
	e := Entry{Name: name.Value, Message: message.Value}
	if photo.Value != nil {
		e.Photo = photo.Value.Filename
	}
	s.mu.Lock()
	s.entries = append(s.entries, e)
	s.mu.Unlock()
	// Back to the home page, below the site's mount if it has one.
	http.Redirect(w, r, mount.Location(mount.ScriptName(r.Context()), "/", ""), http.StatusSeeOther)
}

// isPNG checks the uploaded file's first bytes.
func isPNG(fh *multipart.FileHeader) error {
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 8)
	if n, _ := f.Read(head); n < 8 || !strings.HasPrefix(string(head), "\x89PNG\r\n\x1a\n") {
		return errors.New("This is not a PNG file.")
	}
	return nil
}
