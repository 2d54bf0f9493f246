// Package auth carries the authenticated user of a request through its
// context, so that every part of a pipeline reads it the same way.
//
// The basicauth and cookieauth filters set the user with [WithUser] once
// they have checked the credentials; applications and other filters read it
// with [User] (as Paste's filters set REMOTE_USER in the WSGI environ).
//
// A session filter can keep the two in step: placed inside an auth filter,
// it copies User(r.Context()) into the session when the session has no user
// yet; placed outside, it restores a session's user with WithUser before
// calling the next handler. This package only holds the value; it checks
// nothing.
package auth

import "context"

type userKey struct{}

// User returns the authenticated user of the request whose context is ctx,
// or "" when no filter authenticated it.
func User(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// WithUser returns a copy of ctx carrying user as the authenticated user.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}
