package validate

// This file is the checker: a small HTML tokenizer and the tag-balance
// rules; no HTTP here.

import (
	"bytes"
	"fmt"
	"strings"
)

// Problem is one well-formedness problem in a document.
type Problem struct {
	Line    int // 1-based line where the problem shows
	Message string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Message) }

// voidElements never have content or an end tag (HTML Living Standard
// §13.1.2).
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true,
	"param": true, "source": true, "track": true, "wbr": true,
	"keygen": true, "command": true, "basefont": true, "frame": true,
}

// optionalEnd are elements whose end tag may be omitted (§13.1.2.4);
// leaving them open is not a problem.
var optionalEnd = map[string]bool{
	"html": true, "head": true, "body": true, "p": true, "li": true,
	"dt": true, "dd": true, "rt": true, "rp": true, "optgroup": true,
	"option": true, "colgroup": true, "caption": true, "thead": true,
	"tbody": true, "tfoot": true, "tr": true, "td": true, "th": true,
}

// rawText elements hold text up to their own end tag, markup or not.
var rawText = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true,
	"xmp": true, "iframe": true, "noembed": true, "noframes": true,
}

// MaxProblems bounds the problems Check reports for one document.
const MaxProblems = 50

type open struct {
	name string
	line int
}

// Check reports the tag-balance problems of an HTML document: end tags
// that close nothing or close the wrong element, elements left open (other
// than those whose end tag HTML lets one omit), end tags on void elements,
// self-closing syntax on non-void elements, and unterminated tags,
// comments and raw-text elements. Tag names compare case-insensitively.
func Check(doc []byte) []Problem {
	c := checker{doc: doc, line: 1}
	c.run()
	return c.problems
}

type checker struct {
	doc      []byte
	pos      int
	line     int
	stack    []open
	problems []Problem
}

func (c *checker) report(line int, format string, args ...any) {
	if len(c.problems) < MaxProblems {
		c.problems = append(c.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
	}
}

// advance moves to pos n, counting the lines passed.
func (c *checker) advance(n int) {
	if n > len(c.doc) {
		n = len(c.doc)
	}
	c.line += bytes.Count(c.doc[c.pos:n], []byte{'\n'})
	c.pos = n
}

func (c *checker) run() {
	for c.pos < len(c.doc) {
		i := bytes.IndexByte(c.doc[c.pos:], '<')
		if i < 0 {
			c.advance(len(c.doc))
			break
		}
		c.advance(c.pos + i)
		c.markup()
	}
	for i := len(c.stack) - 1; i >= 0; i-- {
		if o := c.stack[i]; !optionalEnd[o.name] {
			c.report(o.line, "<%s> is never closed", o.name)
		}
	}
}

// markup reads the construct at c.pos, which is '<'.
func (c *checker) markup() {
	rest := c.doc[c.pos:]
	start := c.line
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		end := bytes.Index(rest[4:], []byte("-->"))
		if end < 0 {
			c.report(start, "comment is never closed")
			c.advance(len(c.doc))
			return
		}
		c.advance(c.pos + 4 + end + 3)
	case bytes.HasPrefix(rest, []byte("<!")) || bytes.HasPrefix(rest, []byte("<?")):
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			c.report(start, "declaration is never closed")
			c.advance(len(c.doc))
			return
		}
		c.advance(c.pos + end + 1)
	case len(rest) > 2 && rest[1] == '/' && isLetter(rest[2]):
		name, n, ok := c.tag(rest, 2)
		c.advance(c.pos + n)
		if !ok {
			c.report(start, "end tag </%s is never closed with >", name)
			return
		}
		c.endTag(name, start)
	case len(rest) > 1 && isLetter(rest[1]):
		name, n, ok, selfClosing := c.startTag(rest)
		c.advance(c.pos + n)
		if !ok {
			c.report(start, "tag <%s is never closed with >", name)
			return
		}
		c.startElement(name, selfClosing, start)
	default:
		// A lone '<' in text: browsers show it; not a balance problem.
		c.advance(c.pos + 1)
	}
}

func isLetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f'
}

// tagName reads a tag name at s[i:].
func tagName(s []byte, i int) (string, int) {
	j := i
	for j < len(s) && !isSpace(s[j]) && s[j] != '/' && s[j] != '>' {
		j++
	}
	return strings.ToLower(string(s[i:j])), j
}

// tag reads an end tag: name, the length through '>', and whether '>' was
// found.
func (c *checker) tag(s []byte, i int) (string, int, bool) {
	name, j := tagName(s, i)
	end := bytes.IndexByte(s[j:], '>')
	if end < 0 {
		return name, len(s), false
	}
	return name, j + end + 1, true
}

// startTag reads a start tag with its attributes, honouring quotes.
func (c *checker) startTag(s []byte) (name string, n int, ok, selfClosing bool) {
	name, j := tagName(s, 1)
	var quote byte
	for ; j < len(s); j++ {
		b := s[j]
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			// Quotes open a value only after '='.
			k := j - 1
			for k > 0 && isSpace(s[k]) {
				k--
			}
			if s[k] == '=' {
				quote = b
			}
		case b == '>':
			return name, j + 1, true, j > 0 && s[j-1] == '/'
		}
	}
	return name, len(s), false, false
}

func (c *checker) startElement(name string, selfClosing bool, line int) {
	if voidElements[name] {
		return
	}
	if selfClosing {
		c.report(line, "<%s/> is not a void element; the / is ignored and it stays open", name)
	}
	if rawText[name] {
		// Skip to the matching end tag, case-insensitively.
		lower := bytes.ToLower(c.doc[c.pos:])
		end := bytes.Index(lower, []byte("</"+name))
		if end < 0 {
			c.report(line, "<%s> is never closed", name)
			c.advance(len(c.doc))
			return
		}
		c.advance(c.pos + end)
		c.stack = append(c.stack, open{name, line})
		return
	}
	c.stack = append(c.stack, open{name, line})
}

func (c *checker) endTag(name string, line int) {
	if voidElements[name] {
		if name != "br" { // </br> is read as <br>
			c.report(line, "</%s>: %s is a void element and has no end tag", name, name)
		}
		return
	}
	for i := len(c.stack) - 1; i >= 0; i-- {
		if c.stack[i].name != name {
			continue
		}
		for _, o := range c.stack[i+1:] {
			if !optionalEnd[o.name] {
				c.report(line, "</%s> closes <%s> opened at line %d, which is still open", name, o.name, o.line)
			}
		}
		c.stack = c.stack[:i]
		return
	}
	if optionalEnd[name] && (name == "p" || name == "html" || name == "body" || name == "head") {
		// </p> without <p> is an error in HTML too, but the others of
		// these may be closed implicitly already.
		if name == "p" {
			c.report(line, "</p> without an open <p>")
		}
		return
	}
	if optionalEnd[name] {
		return // closed implicitly before; its end tag is harmless
	}
	c.report(line, "</%s> without an open <%s>", name, name)
}
