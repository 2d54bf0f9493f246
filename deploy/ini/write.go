package ini

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Write writes f in a canonical layout that Parse reads back to the same
// sections, keys and raw values: [DEFAULT] first when it has keys, then the
// sections in order, "name = value", continuation lines indented by a tab,
// a blank line between sections. Comments and the original spacing are not
// kept. A name or value that no file could produce (a key holding "=", a
// value line with surrounding spaces, ...) is an error, and nothing after it
// is written.
func Write(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	first := true
	write := func(s *Section) error {
		if err := checkSection(s); err != nil {
			return err
		}
		if !first {
			bw.WriteString("\n")
		}
		first = false
		fmt.Fprintf(bw, "[%s]\n", s.Name)
		for _, k := range s.Keys {
			if err := checkKey(s, k); err != nil {
				return err
			}
			lines := strings.Split(k.Raw, "\n")
			if lines[0] == "" {
				fmt.Fprintf(bw, "%s =\n", k.Name)
			} else {
				fmt.Fprintf(bw, "%s = %s\n", k.Name, lines[0])
			}
			for _, l := range lines[1:] {
				if l != "" {
					bw.WriteString("\t")
				}
				bw.WriteString(l)
				bw.WriteString("\n")
			}
		}
		return nil
	}
	if f.Default != nil && len(f.Default.Keys) > 0 {
		if err := write(f.Default); err != nil {
			return err
		}
	}
	for _, s := range f.Sections {
		if s.Name == DefaultSection {
			return fmt.Errorf("ini: write: [%s] must be File.Default", DefaultSection)
		}
		if err := write(s); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func checkSection(s *Section) error {
	if s.Name == "" || strings.ContainsAny(s.Name, "\r\n") {
		return fmt.Errorf("ini: write: section name %q cannot be written", s.Name)
	}
	return nil
}

func checkKey(s *Section, k *Key) error {
	name := k.Name
	bad := name == "" || pyStrip(name) != name || strings.ContainsAny(name, "=:\r\n") ||
		name[0] == '#' || name[0] == ';'
	if !bad {
		_, bad = sectionHeader(name + " = " + strings.SplitN(k.Raw, "\n", 2)[0])
	}
	if bad {
		return fmt.Errorf("ini: write: [%s]: key name %q cannot be written", s.Name, name)
	}
	lines := strings.Split(k.Raw, "\n")
	for i, l := range lines {
		ok := pyStrip(l) == l && !strings.Contains(l, "\r") &&
			(i == 0 || l == "" || (l[0] != '#' && l[0] != ';')) &&
			(i == 0 || i < len(lines)-1 || l != "")
		if !ok {
			return fmt.Errorf("ini: write: [%s] %s: value %q cannot be written", s.Name, name, k.Raw)
		}
	}
	return nil
}
