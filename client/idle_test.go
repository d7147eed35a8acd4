package client

import (
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"
)

// A storage that stops reading an upload half-way fails the transfer
// once nothing has moved for the idle time, instead of holding it for
// ever.
func TestStalledTransferFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-stop; c.Close() }() // accepts, never reads
		}
	}()
	const idle = 300 * time.Millisecond
	req, _ := http.NewRequest("PUT", "http://"+l.Addr().String()+"/evidence", bytes.NewReader(make([]byte, 64<<20)))
	start := time.Now()
	_, err = newHTTPClient(idle).Do(req)
	if took := time.Since(start); err == nil || took > 20*idle {
		t.Errorf("a PUT nobody reads: %v after %s, want an error after about %s", err, took.Round(time.Millisecond), idle)
	}
}
