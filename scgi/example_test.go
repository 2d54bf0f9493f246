package scgi_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/gopaste/gopaste/scgi"
)

func ExampleAppendHeaders() {
	b, err := scgi.AppendHeaders(nil, []scgi.Var{
		{Name: "REQUEST_METHOD", Value: "POST"},
		{Name: "CONTENT_LENGTH", Value: "27"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b)
	// Output: "45:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00,"
}

func ExampleReadHeaders() {
	in := "24:CONTENT_LENGTH\x005\x00SCGI\x001\x00,hello"
	br := bufio.NewReader(strings.NewReader(in))
	vars, err := scgi.ReadHeaders(br, 0)
	if err != nil {
		panic(err)
	}
	for _, v := range vars {
		fmt.Printf("%s=%s\n", v.Name, v.Value)
	}
	// Output:
	// CONTENT_LENGTH=5
	// SCGI=1
}
