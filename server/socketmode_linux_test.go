package server

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestUnixSocketCreatedWithModeIssue12: the socket file has its mode from
// the bind on (the umask is narrowed around it), not from a chmod after,
// which left it open to more users than socket_mode says until the chmod
// ran. inotify sees every change of the file's attributes: with a umask
// that keeps the mode's bits (022, or 0 as some service managers set)
// there must be none; with one that takes some (077 and 0660), the file
// is created narrower and widened to the mode. The umask is restored.
func TestUnixSocketCreatedWithModeIssue12(t *testing.T) {
	for _, tc := range []struct {
		umask int
		mode  os.FileMode
		chmod bool
	}{{0o022, 0o600, false}, {0, 0o660, false}, {0o077, 0o660, true}} {
		dir := t.TempDir()
		fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_ATTRIB); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(dir, "s.sock")
		old := syscall.Umask(tc.umask)
		l, err := (ListenConfig{Socket: sock, SocketMode: tc.mode}).Listen(quiet())
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(sock)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, _ := syscall.Read(fd, buf) // -1, EAGAIN when there is no event
		syscall.Close(fd)
		chmods := 0
		for b := buf[:max(n, 0)]; len(b) >= 16; {
			mask, nameLen := binary.NativeEndian.Uint32(b[4:]), binary.NativeEndian.Uint32(b[12:])
			name := bytes.TrimRight(b[16:16+nameLen], "\x00")
			if mask&syscall.IN_ATTRIB != 0 && string(name) == "s.sock" {
				chmods++
			}
			b = b[16+nameLen:]
		}
		if fi.Mode().Perm() != tc.mode {
			t.Errorf("umask %#o: mode %v, want %v", tc.umask, fi.Mode().Perm(), tc.mode)
		}
		if (chmods > 0) != tc.chmod {
			t.Errorf("umask %#o, mode %v: %d attribute changes after the bind, want chmod %v", tc.umask, tc.mode, chmods, tc.chmod)
		}
		if got := syscall.Umask(old); got != old {
			t.Errorf("umask %#o after Listen, want %#o", got, old)
		}
	}
}
