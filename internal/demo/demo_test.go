package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestDataDirIssue12Item8 pins issue 12 item 8: the predictable
// $TMPDIR/gopaste-demo-UID is created 0700 and an entry planted there by
// someone else (a symlink, a directory of another user, a file, an open
// directory) is refused, not followed.
func TestDataDirIssue12Item8(t *testing.T) {
	uid := os.Getuid()
	name := fmt.Sprintf("gopaste-demo-%d", uid)

	t.Run("created 0700", func(t *testing.T) {
		base := t.TempDir()
		dir, err := dataDir(base, uid)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(base, name); dir != want {
			t.Errorf("dataDir = %q, want %q", dir, want)
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("mode = %v, want a directory with 0700", fi.Mode())
		}
		// A second start reuses it.
		if again, err := dataDir(base, uid); err != nil || again != dir {
			t.Errorf("second dataDir = %q, %v; want %q, nil", again, err, dir)
		}
	})

	t.Run("planted symlink", func(t *testing.T) {
		base, target := t.TempDir(), t.TempDir()
		if err := os.Chmod(target, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, uid); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for a symlink", dir)
		}
	})

	t.Run("planted dangling symlink", func(t *testing.T) {
		base := t.TempDir()
		target := filepath.Join(t.TempDir(), "victim")
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, uid); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for a symlink", dir)
		}
		if _, err := os.Lstat(target); !os.IsNotExist(err) {
			t.Errorf("symlink target was created (lstat err %v)", err)
		}
	})

	t.Run("foreign-owned directory", func(t *testing.T) {
		// A directory owned by us is foreign to uid+1, so this case runs as
		// any user; as root it is also checked with a real chown below.
		base := t.TempDir()
		other := uid + 1
		if err := os.Mkdir(filepath.Join(base, fmt.Sprintf("gopaste-demo-%d", other)), 0o700); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, other); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for a directory uid %d does not own", dir, other)
		}
	})

	t.Run("chowned to nobody", func(t *testing.T) {
		if uid != 0 {
			t.Log("not root: the uid+1 case above covers ownership")
			return
		}
		base := t.TempDir()
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, uid); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for a directory owned by uid 65534", dir)
		}
	})

	t.Run("a file", func(t *testing.T) {
		base := t.TempDir()
		if err := os.WriteFile(filepath.Join(base, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, uid); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for a file", dir)
		}
	})

	t.Run("open to others", func(t *testing.T) {
		base := t.TempDir()
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if dir, err := dataDir(base, uid); err == nil {
			t.Fatalf("dataDir = %q, nil; want an error for mode 0777", dir)
		}
	})
}

// TestDataDirUsesTMPDIR: DataDir, as "gopaste serve" calls it, looks under
// $TMPDIR and refuses a symlink planted there.
func TestDataDirUsesTMPDIR(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(tmp, fmt.Sprintf("gopaste-demo-%d", os.Getuid())); dir != want {
		t.Errorf("DataDir = %q, want %q", dir, want)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	if got, err := DataDir(); err == nil {
		t.Errorf("DataDir = %q, nil with a symlink planted at %s", got, dir)
	}
}
