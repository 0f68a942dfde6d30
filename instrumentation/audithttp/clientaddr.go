package audithttp

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress returns the address of the client: the peer, or, when the
// peer is a trusted proxy (peerIsProxy, from peerTrusted), the nearest untrusted address in Forwarded or
// X-Forwarded-For, walking from the right so a client cannot choose what is
// recorded by sending its own header. Entries that are not addresses end the
// walk; the last trusted hop is used then.
func clientAddress(r *http.Request, trusted []netip.Prefix, peerIsProxy bool) string {
	peer := hostOnly(r.RemoteAddr)
	if !peerIsProxy {
		return peer
	}
	hops := forwardedFor(r.Header.Values("Forwarded"))
	if len(hops) == 0 {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, h := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	best := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		best = a.String()
		if !isTrusted(a, trusted) {
			break
		}
	}
	return best
}

// peerTrusted reports whether the peer of r is one of the trusted proxies.
func peerTrusted(r *http.Request, trusted []netip.Prefix) bool {
	if len(trusted) == 0 {
		return false
	}
	a, err := netip.ParseAddr(hostOnly(r.RemoteAddr))
	return err == nil && isTrusted(a.Unmap(), trusted)
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor extracts the for= parameters of RFC 7239 Forwarded headers.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, strings.Trim(val, `"`))
				}
			}
		}
	}
	return out
}

// parseHop parses "1.2.3.4", "1.2.3.4:80", "[::1]:80" or "::1".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
