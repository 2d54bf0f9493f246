package deploy

import (
	"fmt"
	"io"
	"strings"
)

// Fprint writes the tree of n as "gopaste check" prints it: each node with
// its section, place and factory, then its local keys with where each
// value came from, then its children indented. A section Python serves
// says so ("served by Python") and is followed by the wsgi app that
// loads it ("python: app wsgi" and its keys); Go serves the others.
func Fprint(w io.Writer, n *Node) {
	fprint(w, n, 0, nil)
}

func fprint(w io.Writer, n *Node, depth int, parentGlobal map[string]string) {
	ind := strings.Repeat("  ", depth)
	var b strings.Builder
	b.WriteString(ind)
	if n.Role != "" {
		b.WriteString(n.Role + ": ")
	}
	title := n.Section
	if n.Role == "python" {
		title = ""
	} else if title == "" {
		title = n.Kind + " " + n.Ref
	} else {
		title = "[" + title + "]"
	}
	b.WriteString(title)
	if n.Origin != "" && n.Role != "python" {
		fmt.Fprintf(&b, " (%s)", n.Origin)
	}
	switch {
	case n.Role == "python":
		fmt.Fprintf(&b, "%s %s", n.Kind, n.Part)
	case n.pyLeaf:
		fmt.Fprintf(&b, " python %s", n.Kind)
	case n.Part != "":
		fmt.Fprintf(&b, " %s %s", n.Kind, n.Part)
	default:
		fmt.Fprintf(&b, " %s", n.Kind)
	}
	if len(n.Use) > 0 && n.Role != "python" {
		fmt.Fprintf(&b, "; use = %s", strings.Join(n.Use, " -> "))
	}
	if n.Python != nil {
		b.WriteString("; served by Python")
	}
	if n.Ref != "" && n.Section != "" && n.Role != "" && !strings.HasSuffix(n.Section, ":"+n.Ref) {
		fmt.Fprintf(&b, "; as %q", n.Ref)
	}
	fmt.Fprintln(w, b.String())
	global := map[string]string{}
	for _, e := range n.Global {
		global[e.Key] = e.Value
		if parentGlobal == nil {
			continue
		}
		if v, ok := parentGlobal[e.Key]; !ok || v != e.Value {
			fmt.Fprintf(w, "%s    global %s = %s  (%s)\n", ind, e.Key, oneLine(e.Value), e.Origin)
		}
	}
	for _, e := range n.Local {
		fmt.Fprintf(w, "%s    %s = %s  (%s)\n", ind, e.Key, oneLine(e.Value), e.Origin)
	}
	if n.Python != nil {
		fprint(w, n.Python, depth+1, global)
	}
	for _, c := range n.Children {
		fprint(w, c, depth+1, global)
	}
}

// FprintGlobal writes the global config of n, each key with its origin.
func FprintGlobal(w io.Writer, n *Node) {
	for _, e := range n.Global {
		fmt.Fprintf(w, "  %s = %s  (%s)\n", e.Key, oneLine(e.Value), e.Origin)
	}
}

func oneLine(s string) string {
	if strings.Contains(s, "\n") {
		return strings.ReplaceAll(s, "\n", "\\n")
	}
	return s
}
