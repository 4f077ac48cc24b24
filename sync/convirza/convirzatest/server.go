package convirzatest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a sandbox listening on a real TCP port, like httptest.Server.
type Server struct {
	*Sandbox
	// URL is the base URL, "http://127.0.0.1:port", without a trailing slash.
	URL      string
	Listener net.Listener

	srv       *http.Server
	inflight  sync.WaitGroup
	done      chan struct{}
	transport *http.Transport
}

// NewServer starts a sandbox with opts on 127.0.0.1 at a free port. Like
// httptest.NewServer it panics when it cannot listen; callers that must not
// panic use StartServer.
func NewServer(opts Options) *Server {
	srv, err := StartServer(New(opts), "")
	if err != nil {
		panic(fmt.Sprintf("convirzatest: %v", err))
	}
	return srv
}

// StartServer serves sb on addr ("" means 127.0.0.1:0, a free loopback port).
func StartServer(sb *Sandbox, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start sandbox server on %s: %w", addr, err)
	}
	s := &Server{Sandbox: sb, Listener: ln, URL: "http://" + ln.Addr().String(), done: make(chan struct{}),
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	h := sb.Handler()
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.inflight.Add(1)
			defer s.inflight.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve only fails here when the listener breaks; the server is
			// then unusable and Close has nothing left to do.
			return
		}
	}()
	return s, nil
}

// APIURL is the API base: URL + "/v3".
func (s *Server) APIURL() string { return s.URL + "/v3" }

// AuthURL is the auth base: URL itself.
func (s *Server) AuthURL() string { return s.URL }

// Client returns an HTTP client whose idle connections Close shuts.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.transport}
}

// Close stops the server, closes every connection and waits for the
// handlers that are still running.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
	s.inflight.Wait()
	s.transport.CloseIdleConnections()
}

// Shutdown stops the server gracefully: no new connections, and the calls in
// flight finish until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	s.inflight.Wait()
	s.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("shut down sandbox server: %w", err)
	}
	return nil
}
