package main

import (
	"log/slog"
	"net"
	"strconv"
)

// warnIfTokenExposed warns when WALDUR_API_TOKEN is set and the listener is
// reachable from other machines: every caller without credentials of its own
// is answered with that token's view, whoever reaches the port.
func warnIfTokenExposed(logger *slog.Logger, addr net.Addr, tokenSet bool) {
	if !tokenSet || isLoopback(addr) {
		return
	}
	logger.Warn("WALDUR_API_TOKEN is set and the gateway listens beyond loopback: everyone who reaches the port gets that token's view of Waldur; "+
		"listen on 127.0.0.1 (LISTEN_ADDR), or leave it unset so that callers send their own Authorization",
		slog.String("addr", addr.String()))
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// notePlaygroundMissing says, at start, what "/" would otherwise tell only
// whoever opens it: GraphiQL was not built into this binary, and how to.
func notePlaygroundMissing(logger *slog.Logger, enabled, built bool) {
	if !enabled || built {
		return
	}
	logger.Warn("GraphiQL is not built into this binary: / says how to build it. The API works; " +
		"build the assets with 'make playground' (npm) before 'go build', or use 'make build' or 'make image'")
}

// browseURL is the address to open in a browser for a listener on addr:
// localhost when it listens on every interface.
func browseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + "/"
}
