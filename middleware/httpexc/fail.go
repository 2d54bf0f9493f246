package httpexc

import (
	"fmt"
	"net/http"
)

// Fail returns a handler that always fails: it panics with an *Error of
// status (and location, for redirects) when status is set, and otherwise
// with message, as an application bug would. It exists to try out the
// errors and httpexceptions filters, error pages and alerting.
func Fail(message string, status int, location string) (http.Handler, error) {
	if status != 0 && (status < 300 || status > 599) {
		return nil, fmt.Errorf("httpexc: fail status %d is not an error or redirect (300..599)", status)
	}
	if message == "" {
		message = "deliberate failure"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == 0 {
			panic(message)
		}
		if status < 400 {
			panic(Redirect(location, status))
		}
		panic(&Error{Status: status, Message: message})
	}), nil
}
