package ini_test

import (
	"fmt"
	"strings"

	"github.com/gopaste/gopaste/deploy/ini"
)

func Example() {
	const config = `[DEFAULT]
root = %(here)s/htdocs

[app:main]
use = egg:Paste#static
document_root = %(root)s
index = index.html
        index.htm
`
	f, err := ini.Parse("site.ini", strings.NewReader(config))
	if err != nil {
		fmt.Println(err)
		return
	}
	app := f.Sections[0]
	use, _ := app.Get("use")
	fmt.Printf("[%s] use = %s (line %d)\n", app.Name, use.Raw, use.Line)

	values, err := f.Values("app:main", map[string]string{"here": "/srv/site", "__file__": "/srv/site/site.ini"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("document_root = %s\n", values["document_root"])
	fmt.Printf("index = %q\n", values["index"])

	_, err = ini.Parse("bad.ini", strings.NewReader("[app:main]\nuse = x\nuse = y\nno delimiter\n"))
	fmt.Println(err)
	// Output:
	// [app:main] use = egg:Paste#static (line 5)
	// document_root = /srv/site/htdocs
	// index = "index.html\nindex.htm"
	// bad.ini:3: [app:main]: key "use" is set twice in this section
	// bad.ini:4: [app:main]: "no delimiter" has no "=" or ":"
}
