package scgi

// A server names the protocol a wrong client speaks from the protocols
// registered in registry.Default: the tests that check those log lines
// link the others in, as the gopaste binary does.
import _ "github.com/gopaste/gopaste/fastcgi"
