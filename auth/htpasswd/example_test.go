package htpasswd_test

import (
	"fmt"
	"strings"

	"github.com/gopaste/gopaste/auth/htpasswd"
)

func ExampleParse() {
	// As written by htpasswd -nbm alice wonderland and htpasswd -nbs carol secret.
	file := "alice:$apr1$deHYcRdH$sq1ri8lxiCzivRaz8c8p51\ncarol:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"
	users, err := htpasswd.Parse(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	fmt.Println(users.Check("alice", "wonderland"), users.Check("carol", "secret"), users.Check("carol", "guess"))
	// Output: true true false
}
