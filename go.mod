module github.com/gopaste/gopaste

go 1.26
