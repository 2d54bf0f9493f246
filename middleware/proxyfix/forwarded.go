package proxyfix

// This file parses the Forwarded (RFC 7239) and X-Forwarded-* headers;
// no trust decisions here.

import (
	"net"
	"net/netip"
	"strings"
)

// hop is what one proxy said about the client it served.
type hop struct {
	node  string     // the for= node as written ("192.0.2.1:80", "[2001:db8::1]", "unknown", "_hidden")
	addr  netip.Addr // valid when the node is an IP address
	port  string
	proto string // "" when not given
	host  string // "" when not given
}

// maxHops bounds the work a client can cause with a long header.
const maxHops = 64

// parseForwarded parses the Forwarded header's values (RFC 7239 §4): a
// comma-separated list of elements, each a semicolon-separated list of
// token=value pairs where the value may be a quoted string. It returns
// ok false on a syntax error, in which case the header must be ignored.
func parseForwarded(values []string) (hops []hop, ok bool) {
	for _, v := range values {
		s := v
		for {
			var h hop
			for {
				s = strings.TrimLeft(s, " \t")
				eq := strings.IndexByte(s, '=')
				if eq <= 0 {
					return nil, false
				}
				name := strings.ToLower(strings.TrimSpace(s[:eq]))
				if !isToken(name) {
					return nil, false
				}
				s = s[eq+1:]
				var val string
				if strings.HasPrefix(s, `"`) {
					var b strings.Builder
					i := 1
					for ; i < len(s) && s[i] != '"'; i++ {
						if s[i] == '\\' && i+1 < len(s) {
							i++
						}
						b.WriteByte(s[i])
					}
					if i >= len(s) {
						return nil, false // unterminated quote
					}
					val, s = b.String(), s[i+1:]
				} else {
					end := strings.IndexAny(s, ";,")
					if end < 0 {
						end = len(s)
					}
					val, s = strings.TrimRight(s[:end], " \t"), s[end:]
					if !isToken(val) {
						return nil, false
					}
				}
				switch name {
				case "for":
					h.node = val
					h.addr, h.port = parseNode(val)
				case "proto":
					h.proto = strings.ToLower(val)
				case "host":
					h.host = val
				}
				s = strings.TrimLeft(s, " \t")
				if !strings.HasPrefix(s, ";") {
					break
				}
				s = s[1:]
			}
			hops = append(hops, h)
			if len(hops) > maxHops {
				return nil, false
			}
			if s == "" {
				break
			}
			if !strings.HasPrefix(s, ",") {
				return nil, false
			}
			s = s[1:]
		}
	}
	return hops, true
}

// parseNode reads a node: an IPv4 address or bracketed IPv6 address with
// an optional port, or an identifier ("unknown", "_hidden") that has no
// address.
func parseNode(s string) (netip.Addr, string) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), portString(ap.Port())
	}
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			if a, err := netip.ParseAddr(s[1:end]); err == nil {
				port := ""
				if rest := s[end+1:]; strings.HasPrefix(rest, ":") {
					port = rest[1:]
				}
				return a.Unmap(), port
			}
		}
		return netip.Addr{}, ""
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap(), port
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), ""
	}
	return netip.Addr{}, ""
}

func portString(p uint16) string {
	if p == 0 {
		return ""
	}
	return itoa(int(p))
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// parseXForwarded builds hops from X-Forwarded-For, with X-Forwarded-Proto
// and -Host matched by position when the lists line up, and otherwise
// taken from their last value (the one the nearest proxy set) for every
// hop.
func parseXForwarded(xff, xfp, xfh []string) []hop {
	fors := splitList(xff)
	if len(fors) > maxHops {
		fors = fors[len(fors)-maxHops:]
	}
	protos, hosts := splitList(xfp), splitList(xfh)
	hops := make([]hop, len(fors))
	for i, f := range fors {
		h := hop{node: f}
		h.addr, h.port = parseNode(f)
		h.proto = pick(protos, i, len(fors))
		h.host = pick(hosts, i, len(fors))
		if h.proto != "" {
			h.proto = strings.ToLower(h.proto)
		}
		hops[i] = h
	}
	return hops
}

func pick(list []string, i, n int) string {
	switch {
	case len(list) == n:
		return list[i]
	case len(list) > 0:
		return list[len(list)-1]
	}
	return ""
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// isToken reports whether s is an unquoted value: an RFC 7230 token,
// leniently also allowing ':', '/', '[' and ']' as proxies write
// addresses with ports unquoted.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),;<=>?@\{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHost reports whether s is a plausible Host value: a name, IPv4 or
// bracketed IPv6 address, with an optional port.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}
