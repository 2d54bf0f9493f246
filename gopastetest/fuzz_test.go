package gopastetest

import (
	"strings"
	"testing"
)

func FuzzParseForms(f *testing.F) {
	for _, s := range []string{
		`<form action="/x" method=post><input name=a value="1"><select name=s><option>x<option value=y selected></select><textarea name=t>
hi</textarea></form>`,
		`<form><input type=checkbox name=c checked><input type=radio name=r value=1></form>`,
		`<form`, `<form><select><option>`, `<!-- <form> -->`, `<script></form>`, `<FORM><INPUT NAME='a'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		forms := parseForms(doc)
		if n := strings.Count(strings.ToLower(doc), "<form"); len(forms) > n {
			t.Fatalf("%d forms from %d <form", len(forms), n)
		}
		for _, fm := range forms {
			fm.Values() // must not panic
		}
	})
}
