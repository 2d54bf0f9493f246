//go:build !linux

package server

// setCork does nothing: the BSDs' TCP_NOPUSH does not send the last
// partial segment when it is cleared, so a corked response could wait.
func setCork(fd uintptr, on bool) {}
