package validate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // "line: start of message"
	}{
		{"clean", "<!DOCTYPE html>\n<html><head><title>a < b</title></head>\n<body><p>hi<br><img src=x></p></body></html>", nil},
		{"optional ends", "<ul><li>one<li>two</ul><table><tr><td>a<td>b</table><p>para", nil},
		{"void with slash", `<br/><img src="a"/><input type=text />`, nil},
		{"upper case", "<DIV><Span>x</SPAN></div>", nil},
		{"quoted >", `<a title="a > b" href='x>y'>link</a>`, nil},
		{"comment hides tags", "<div><!-- </div> --></div>", nil},
		{"script hides tags", "<script>if (a < b) { document.write('</div>') }</script>", nil},
		{"script case", "<SCRIPT>x</Script>", nil},
		{"lone lt", "<p>1 < 2 and a<-b</p>", nil},
		{"unclosed", "<div>\n<span>x</div>", []string{"2: </div> closes <span> opened at line 2"}},
		{"mismatched", "<b><i>x</b></i>", []string{"1: </b> closes <i>", "1: </i> without an open <i>"}},
		{"never closed", "<div>\n<section>\n", []string{"2: <section> is never closed", "1: <div> is never closed"}},
		{"stray end", "x</span>", []string{"1: </span> without an open <span>"}},
		{"stray p", "</p>", []string{"1: </p> without an open <p>"}},
		{"void end tag", "<img></img>", []string{"1: </img>: img is a void element"}},
		{"br end tag is a br", "a</br>b", nil},
		{"self-closing div", "<div/>x", []string{"1: <div/> is not a void element", "1: <div> is never closed"}},
		{"unterminated tag", `<a href="x`, []string{"1: tag <a is never closed with >"}},
		{"unterminated comment", "<!-- x", []string{"1: comment is never closed"}},
		{"unterminated script", "<script>x", []string{"1: <script> is never closed"}},
		{"lines", "<div>\n\n<!--\n\n-->\n</span>", []string{"6: </span> without", "1: <div> is never closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Check([]byte(tt.doc)) {
				got = append(got, p.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Check = %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], "line "+tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], "line "+tt.want[i])
				}
			}
		})
	}
}

func TestCheckBounded(t *testing.T) {
	doc := strings.Repeat("</x>", 1000)
	if n := len(Check([]byte(doc))); n != MaxProblems {
		t.Errorf("%d problems, want %d", n, MaxProblems)
	}
}

func TestComment(t *testing.T) {
	got := string(Comment([]Problem{{Line: 3, Message: "</x--y> without"}}))
	want := "\n<!-- validate: 1 problem\n  line 3: </x- -y> without\n-->\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Comment (-want +got):\n%s", diff)
	}
}
