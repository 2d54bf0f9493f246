package proc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// listenFDsStart is the first inherited descriptor (after stdin, stdout
// and stderr), as in sd_listen_fds(3).
const listenFDsStart = 3

// Files returns the files this process inherited for it, as a parent
// that set [Cmd].ListenEnv (or systemd) describes them in LISTEN_FDS and
// LISTEN_PID, and unsets those variables so that its own children do not
// take them for theirs. It returns none when the variables are absent or
// meant for another process.
func Files() ([]*os.File, error) {
	n, err := listenFDs(os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getpid())
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if err != nil || n == 0 {
		return nil, err
	}
	files := make([]*os.File, n)
	for i := range files {
		fd := listenFDsStart + i
		syscall.CloseOnExec(fd)
		files[i] = os.NewFile(uintptr(fd), "listen-fd-"+strconv.Itoa(fd))
	}
	return files, nil
}

// Listeners returns [Files] as listeners, in order.
func Listeners() ([]net.Listener, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	var ls []net.Listener
	for _, f := range files {
		l, err := net.FileListener(f)
		f.Close() // l has its own descriptor
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, fmt.Errorf("proc: inherited %s: %w", f.Name(), err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// listenFDs reads LISTEN_PID and LISTEN_FDS for process pid: how many
// descriptors from fd 3 on are its listeners.
func listenFDs(listenPID, listenFDs string, pid int) (int, error) {
	if listenFDs == "" {
		return 0, nil
	}
	if listenPID != "" && listenPID != strconv.Itoa(pid) {
		return 0, nil // set for a parent that did not unset it
	}
	n, err := strconv.Atoi(listenFDs)
	if err != nil || n < 0 || n > 1024 {
		return 0, errors.New("proc: bad LISTEN_FDS " + strconv.Quote(listenFDs))
	}
	return n, nil
}
