//go:build !unix

package accesslog

func watch(*File)   {}
func unwatch(*File) {}
