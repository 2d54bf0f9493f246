package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/gopaste/gopaste/deploy"
)

// pdNode is the shape testdata/pastedeploy_dump.py prints: what
// PasteDeploy resolves for each part of a tree.
type pdNode struct {
	Kind     string            `json:"kind"`
	Use      string            `json:"use,omitempty"`
	Global   map[string]string `json:"global_conf,omitempty"`
	Local    map[string]string `json:"local_conf,omitempty"`
	Children []*pdNode         `json:"children"`
}

// fromTree renders gopaste's resolved tree in the same shape.
func fromTree(n *deploy.Node) *pdNode {
	out := &pdNode{Children: []*pdNode{}}
	switch n.Kind {
	case "app", "composite":
		out.Kind = "application"
	case "filter":
		out.Kind = "filter"
	case "pipeline":
		out.Kind = "pipeline"
	case "filter-app":
		out.Kind = "filter_app"
	case "filter-with", "filter-with-filter":
		out.Kind = "filtered_with"
	default:
		out.Kind = n.Kind
	}
	if n.Part != "" {
		out.Use = n.Use[len(n.Use)-1]
		out.Global, out.Local = map[string]string{}, map[string]string{}
		for _, e := range n.Global {
			out.Global[e.Key] = e.Value
		}
		for _, e := range n.Local {
			out.Local[e.Key] = e.Value
		}
	}
	for _, c := range n.Children {
		out.Children = append(out.Children, fromTree(c))
	}
	return out
}

// TestAgreesWithPasteDeploy compares, for every golden case that builds,
// the tree gopaste resolves with the one PasteDeploy itself resolves (kept
// in the case's pastedeploy.json, written by -update with Debian's
// python3-pastedeploy): kinds, the names used, and each part's global and
// local config.
func TestAgreesWithPasteDeploy(t *testing.T) {
	files, _ := filepath.Glob("testdata/check/*.txtar")
	compared := 0
	for _, file := range files {
		base := filepath.Base(file)
		if strings.HasPrefix(base, "error_") || base == "servers.txtar" {
			continue
		}
		if base == "section_aliases.txtar" {
			// A known, deliberate difference: gopaste reads a bare [app]
			// as [app:main], as PasteDeploy's documentation says, but
			// PasteDeploy 3's loader always asks for "main" by name and
			// so never finds a bare [app].
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			config := ""
			golden := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "want", "requests":
					continue
				case "pastedeploy.json":
					golden = i
					continue
				}
				p := filepath.Join(dir, f.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, f.Data, 0o644)
				if config == "" && strings.HasSuffix(f.Name, ".ini") {
					config = p
				}
			}
			if *update {
				out, err := exec.Command("/usr/bin/python3", "testdata/pastedeploy_dump.py", config).CombinedOutput()
				if err != nil {
					t.Fatalf("pastedeploy_dump.py: %v\n%s", err, out)
				}
				data := []byte(strings.ReplaceAll(string(out), dir, "$DIR"))
				if golden < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "pastedeploy.json", Data: data})
				} else {
					ar.Files[golden].Data = data
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if golden < 0 {
				t.Fatalf("no pastedeploy.json: run go test ./deploy -run TestAgreesWithPasteDeploy -update")
			}
			var want pdNode
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(ar.Files[golden].Data), "$DIR", dir)), &want); err != nil {
				t.Fatal(err)
			}
			app, err := deploy.BuildApp(config, "main", deploy.Options{Registry: testRegistry(t), Logger: discard()})
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			got := fromTree(app.Tree)
			if !reflect.DeepEqual(got, &want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(&want, "", " ")
				t.Errorf("gopaste and PasteDeploy disagree\n--- gopaste\n%s\n--- PasteDeploy\n%s", g, w)
			}
			compared++
		})
	}
	if !*update && compared < 8 {
		t.Errorf("compared only %d cases with PasteDeploy", compared)
	}
}
