// Package partdoc reads what gopaste's docs say about a part: the section
// of docs/*.md that documents it, its first paragraph and its keys table.
// "gopaste apps NAME" prints what it finds, and the docs test checks the
// same tables against the keys each factory asks for, so the printed keys
// and the documented ones are one source.
//
// The conventions it reads, as docs/extending.md states them:
//
//   - A part's section is a heading (level 2 or more) naming it: plainly
//     ("## static", "## redirect and rewrite") or in backquotes ("### App
//     `cgi`", "### The waitress server: `use = egg:waitress#main`"); a
//     registered alias names it too. A heading holding a kind word (app,
//     filter, server, composite) names only a part of that kind, so
//     "### App `cgi`" and "### Server `cgi`" are two parts; when several
//     headings name a part, a backquoted name beats a plain one and a kind
//     word beats none, then the first in page order wins.
//   - Its first paragraph says what the part does (for a section that
//     starts with its table, the first paragraph of a page whose title
//     names the part alone, "# The wsgi app: ...", does).
//   - Its keys are the rows of a table, in the section's own text (before
//     any subheading), whose first header cell is "key" (or ends in " key",
//     as "waitress key"): | key | default | meaning | or | key | meaning |.
//     A first cell may name several keys (`cert_file`, `key_file`) and
//     patterns whose placeholders are upper case (`rule N`, `env NAME`);
//     text after " = " in a backquoted key is its syntax, not its name.
//   - A link in the section's text whose words say "keys", to a section
//     with a key table ("It takes the [shared keys](#proxy-apps-shared-keys)"),
//     adds that table: keys several parts share are documented once.
package partdoc

import (
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Kind words a heading may hold, lower case. A heading with "app" names
// apps and composites.
var kindWords = map[string][]string{
	"app":       {"app", "composite"},
	"composite": {"composite"},
	"filter":    {"filter"},
	"server":    {"server"},
}

// Key is one row of a keys table.
type Key struct {
	Text    string   // the first cell, cleaned of markup: "cert_file, key_file", "/PREFIX = APP"
	Names   []string // the keys the row documents: "cert_file", "key_file"; patterns as written ("rule N")
	Default string   // the default column, cleaned of markup; "" when the table has none or the cell is empty
	Meaning string   // the last column, cleaned of markup, on one line
}

// Table is a keys table and the section holding it.
type Table struct {
	Page    string // the page's file name: "apps.md"
	Heading string // the section's heading, without the #s: "App `cgi`"
	Anchor  string // the heading's anchor, as GitHub makes it: "app-cgi"
	// HasDefault says the table has a default column (| key | default
	// | meaning |); a two-column table (| key | meaning |) has none.
	HasDefault bool
	Keys       []Key
}

// Section is what the docs say about one part.
type Section struct {
	Page    string
	Heading string
	Anchor  string
	// Summary is the section's first paragraph on one line, markup
	// removed; when the section starts with its table ("## Keys of the
	// `wsgi` app") and the page's title names the part alone ("# The
	// wsgi app: ..."), the page's first paragraph.
	Summary string
	// Tables are the section's own keys table (first, when it has one)
	// and the tables its "keys" links add, in link order.
	Tables []Table
}

// Keys returns every row of the section's tables, in order.
func (s *Section) Keys() []Key {
	var ks []Key
	for _, t := range s.Tables {
		ks = append(ks, t.Keys...)
	}
	return ks
}

// heading is one section of a page.
type heading struct {
	page   string
	level  int
	text   string
	anchor string
	body   []string // lines up to the next heading, outside and inside code blocks
	names  []names
	kinds  []string // the kinds its kind word allows; nil for any
}

type names struct {
	name   string
	quoted bool
}

// The patterns are compiled on first use, not at start: every gopaste
// process links this package, most never reads the docs.
var (
	headingRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	})
	quotedRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("`([^`]+)`")
	})
	linkRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)\)`)
	})
	sepRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
	})
	upperRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^/?[A-Z][A-Z0-9_]*$`)
	})
)

// Find returns the section of the pages in fsys (the *.md files at its
// root, such as docs.Pages) that documents the part of kind ("app",
// "composite", "filter", "server") called by one of names (its name and
// aliases). ok is false when no heading names it.
func Find(fsys fs.FS, kind string, names ...string) (s Section, ok bool) {
	order, pages, err := read(fsys)
	if err != nil {
		return Section{}, false
	}
	var best *heading
	bestScore := 0
	for _, p := range order {
		for _, h := range pages[p] {
			if sc := h.score(kind, names); sc > bestScore {
				best, bestScore = h, sc
			}
		}
	}
	if best == nil {
		return Section{}, false
	}
	s = Section{Page: best.page, Heading: best.text, Anchor: best.anchor, Summary: summary(best.body)}
	if p := pages[best.page]; s.Summary == "" && len(p) > 0 && p[0].level == 1 && titleNames(p[0].text, kind, names) {
		s.Summary = summary(p[0].body)
	}
	if t, ok := best.table(); ok {
		s.Tables = append(s.Tables, t)
	}
	for _, l := range best.keyLinks() {
		page, anchor, _ := strings.Cut(l, "#")
		if page == "" {
			page = best.page
		}
		for _, h := range pages[page] {
			if h.anchor != anchor {
				continue
			}
			if t, ok := h.table(); ok && !hasTable(s.Tables, t) {
				s.Tables = append(s.Tables, t)
			}
			break
		}
	}
	return s, true
}

func hasTable(ts []Table, t Table) bool {
	for _, u := range ts {
		if u.Page == t.Page && u.Anchor == t.Anchor {
			return true
		}
	}
	return false
}

// titleNames reports whether a page's title is about the part alone:
// before any colon, "The wsgi app", "wsgi" or "Sessions" (for session).
func titleNames(title, kind string, names []string) bool {
	t, _, _ := strings.Cut(strings.ToLower(Clean(title)), ":")
	t = strings.TrimPrefix(strings.TrimSpace(t), "the ")
	for w, ks := range kindWords {
		if contains(ks, kind) {
			t = strings.TrimSuffix(t, " "+w)
		}
	}
	for _, n := range names {
		if t == n || t == n+"s" {
			return true
		}
	}
	return false
}

// score says how well h names the part: 0 not at all; more for a quoted
// name and for a kind word that agrees.
func (h *heading) score(kind string, want []string) int {
	if h.kinds != nil && !contains(h.kinds, kind) {
		return 0
	}
	best := 0
	for _, n := range h.names {
		if !contains(want, n.name) {
			continue
		}
		sc := 1
		if n.quoted {
			sc++
		}
		if h.kinds != nil {
			sc += 2
		}
		best = max(best, sc)
	}
	return best
}

func contains(ss []string, s string) bool {
	for _, t := range ss {
		if t == s {
			return true
		}
	}
	return false
}

// read parses every *.md page at the root of fsys: their names in
// order, and their sections by name.
func read(fsys fs.FS) ([]string, map[string][]*heading, error) {
	files, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	pages := map[string][]*heading{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, nil, err
		}
		pages[f] = parse(f, string(b))
	}
	return files, pages, nil
}

// parse splits a page into its sections.
func parse(page, text string) []*heading {
	var hs []*heading
	var cur *heading
	fence := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimSpace(line)
		if fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			fence = t[:3]
		} else if fence != "" && strings.HasPrefix(t, fence) {
			fence = ""
		} else if m := headingRe().FindStringSubmatch(line); fence == "" && m != nil {
			cur = newHeading(page, len(m[1]), m[2])
			if cur.level == 1 {
				cur.names = nil // a page's title is not a part's section
			}
			hs = append(hs, cur)
			continue
		}
		if cur != nil {
			cur.body = append(cur.body, line)
		}
	}
	return hs
}

func newHeading(page string, level int, text string) *heading {
	h := &heading{page: page, level: level, text: text, anchor: Anchor(text)}
	for _, m := range quotedRe().FindAllStringSubmatch(text, -1) {
		n := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m[1]), "use ="))
		h.names = append(h.names, names{n, true})
	}
	if len(h.names) == 0 {
		for _, part := range strings.FieldsFunc(strings.ReplaceAll(text, " and ", ","), func(r rune) bool { return r == ',' || r == '/' }) {
			if n := strings.TrimSpace(part); n != "" {
				h.names = append(h.names, names{n, false})
			}
		}
	}
	for _, w := range strings.Fields(quotedRe().ReplaceAllString(text, " ")) {
		if ks, ok := kindWords[strings.ToLower(strings.Trim(w, ":,.()"))]; ok {
			h.kinds = ks
			break
		}
	}
	return h
}

// Anchor returns the anchor GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than - and _ dropped.
func Anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// table returns the first keys table in h's own text.
func (h *heading) table() (Table, bool) {
	fence := false
	for i := 0; i+1 < len(h.body); i++ {
		t := strings.TrimSpace(h.body[i])
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(t, "|") || !sepRe().MatchString(strings.TrimSpace(h.body[i+1])) {
			continue
		}
		head := cells(t)
		first := strings.ToLower(head[0])
		if first != "key" && !strings.HasSuffix(first, " key") {
			continue
		}
		def := -1
		for j, c := range head {
			if strings.EqualFold(c, "default") {
				def = j
			}
		}
		tb := Table{Page: h.page, Heading: h.text, Anchor: h.anchor, HasDefault: def > 0}
		for _, row := range h.body[i+2:] {
			row = strings.TrimSpace(row)
			if !strings.HasPrefix(row, "|") {
				break
			}
			cs := cells(row)
			if len(cs) < 2 {
				continue
			}
			k := Key{Text: Clean(cs[0]), Names: keyNames(cs[0]), Meaning: Clean(cs[len(cs)-1])}
			if def > 0 && def < len(cs)-1 {
				k.Default = Clean(cs[def])
			}
			tb.Keys = append(tb.Keys, k)
		}
		return tb, true
	}
	return Table{}, false
}

// cells splits a table row on the | that are not escaped.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var out []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case row[i] == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// keyNames returns the keys a first cell names: each backquoted span up
// to " =", or the whole cell when nothing is quoted.
func keyNames(cell string) []string {
	var ns []string
	for _, m := range quotedRe().FindAllStringSubmatch(cell, -1) {
		n := m[1]
		if i := strings.Index(n, " ="); i >= 0 {
			n = n[:i]
		} else if i := strings.Index(n, "="); i >= 0 && !strings.Contains(n, " ") {
			n = n[:i] // "env=NAME" style
		}
		if n = strings.TrimSpace(n); n != "" {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		ns = append(ns, Clean(cell))
	}
	return ns
}

// Matches reports whether key is one of k's names, or fits one of its
// patterns: a name's upper-case words stand for any word ("rule N" fits
// "rule 10", "env NAME" fits "env PATH"; "/PREFIX" fits any path).
func (k Key) Matches(key string) bool {
	for _, n := range k.Names {
		if n == key {
			return true
		}
		if !IsPattern(n) {
			continue
		}
		pw, kw := strings.Fields(n), strings.Fields(key)
		if len(pw) != len(kw) {
			continue
		}
		ok := true
		for i := range pw {
			if pw[i] != kw[i] && !placeholder(pw[i], kw[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// placeholder reports whether pattern word p stands for word w: an upper
// case word stands for any word, "/PREFIX" for any path.
func placeholder(p, w string) bool {
	if !upperRe().MatchString(p) {
		return false
	}
	return !strings.HasPrefix(p, "/") || strings.HasPrefix(w, "/")
}

// IsPattern reports whether a documented key name has a placeholder: an
// upper-case word ("rule N", "env NAME").
func IsPattern(name string) bool {
	for _, w := range strings.Fields(name) {
		if upperRe().MatchString(w) {
			return true
		}
	}
	return false
}

// keyLinks returns the targets of the links in h's own prose whose text
// says "keys": "#proxy-apps-shared-keys", "servers.md#keys-every-...".
func (h *heading) keyLinks() []string {
	var prose []string // a link may span lines
	fence := false
	for _, line := range h.body {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
			continue
		}
		if !fence && !strings.HasPrefix(t, "|") {
			prose = append(prose, t)
		}
	}
	var out []string
	for _, m := range linkRe().FindAllStringSubmatch(strings.Join(prose, " "), -1) {
		if strings.Contains(strings.ToLower(m[1]), "keys") && strings.Contains(m[2], "#") && !strings.Contains(m[2], "://") {
			out = append(out, path.Clean("/" + m[2])[1:])
		}
	}
	return out
}

// summary returns the first paragraph of body, when it is prose.
func summary(body []string) string {
	var para []string
	for _, line := range body {
		t := strings.TrimSpace(line)
		if t == "" {
			if len(para) > 0 {
				break
			}
			continue
		}
		if len(para) == 0 && (strings.HasPrefix(t, "|") || strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") || strings.HasPrefix(t, "<") || strings.HasPrefix(t, "!")) {
			return ""
		}
		para = append(para, t)
	}
	return Clean(strings.Join(para, " "))
}

// Clean removes markdown markup from text: backquotes, emphasis, links
// (keeping their text) and escapes.
func Clean(text string) string {
	text = linkRe().ReplaceAllString(text, "$1")
	text = strings.NewReplacer("`", "", "**", "", `\|`, "|", `\_`, "_", `\*`, "*").Replace(text)
	return strings.Join(strings.Fields(text), " ")
}
