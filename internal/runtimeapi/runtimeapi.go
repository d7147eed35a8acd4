// Package runtimeapi serves the AWS Lambda Runtime API
// (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) on 127.0.0.1,
// so that a function's real bootstrap binary can be run the way Lambda
// runs it (AWS_LAMBDA_RUNTIME_API, then next/response/error) where
// Lambda's own runtime interface emulator cannot be had: it needs Docker.
// It serves one function process, one invocation at a time, as Lambda does.
package runtimeapi

import (
	"context"

	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime"

// Result is what the function answered to one invocation: its response
// body, or the error it reported (errorType and errorMessage as JSON).
type Result struct {
	Body  []byte
	Error []byte
	// At is when the answer arrived.
	At time.Time
}

// Server is a Runtime API endpoint.
type Server struct {
	srv     *http.Server
	addr    string
	pending chan invocation
	mu      sync.Mutex
	waiting map[string]chan Result
	initErr chan []byte
	seq     int
	// Function is the ARN reported to the function.
	Function string
	// Timeout sets each invocation's deadline header.
	Timeout time.Duration

	firstPoll time.Time
}

// FirstPoll is when the function first asked for an invocation: the end of
// its init phase.
func (s *Server) FirstPoll() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstPoll
}

type invocation struct {
	id      string
	payload []byte
}

// Start listens on a free port of 127.0.0.1 and serves until Close.
func Start() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: %w", err)
	}
	s := &Server{
		addr: l.Addr().String(), pending: make(chan invocation, 1), waiting: map[string]chan Result{},
		initErr:  make(chan []byte, 1),
		Function: "arn:aws:lambda:eu-central-1:111122223333:function:evidence-vault", Timeout: 30 * time.Second,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, false) })
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, true) })
	mux.HandleFunc("POST "+prefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case s.initErr <- body:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(l)
	return s, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Invoke queues payload for the function and waits for its answer.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	s.mu.Lock()
	s.seq++
	id := "00000000-0000-4000-8000-" + fmt.Sprintf("%012d", s.seq)
	done := make(chan Result, 1)
	s.waiting[id] = done
	s.mu.Unlock()
	select {
	case s.pending <- invocation{id: id, payload: payload}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-done:
		return r, nil
	case body := <-s.initErr:
		return Result{}, fmt.Errorf("runtimeapi: the function failed to initialize: %s", body)
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// next hands the function its next invocation, blocking until there is one.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.firstPoll.IsZero() {
		s.firstPoll = time.Now()
	}
	s.mu.Unlock()
	select {
	case inv := <-s.pending:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(s.Timeout).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", s.Function)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Type", "application/json")
		w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, failed bool) {
	body, err := io.ReadAll(r.Body)
	s.mu.Lock()
	done, ok := s.waiting[r.PathValue("id")]
	delete(s.waiting, r.PathValue("id"))
	s.mu.Unlock()
	if !ok || err != nil {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	res := Result{At: time.Now()}
	if failed {
		res.Error = body
	} else {
		res.Body = body
	}
	done <- res
	w.WriteHeader(http.StatusAccepted)
}
