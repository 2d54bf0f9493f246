package cgivars

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func pipeConn(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); accepted <- c }()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestShortReply(t *testing.T) {
	t.Run("ends within the buffer", func(t *testing.T) {
		c, s := pipeConn(t)
		s.Write([]byte("Status: 200 OK\r\n\r\nhello"))
		s.Close()
		br := bufio.NewReaderSize(c, 4096)
		br.ReadString('\n')
		br.ReadString('\n')
		n, ok := ShortReply(c, br, time.Second)
		if !ok || n != 5 {
			t.Fatalf("ShortReply = %d, %v; want 5, true", n, ok)
		}
		if b, _ := io.ReadAll(br); string(b) != "hello" {
			t.Errorf("body %q", b)
		}
	})
	t.Run("a stream is left to stream", func(t *testing.T) {
		c, s := pipeConn(t)
		s.Write([]byte("first "))
		br := bufio.NewReaderSize(c, 4096)
		start := time.Now()
		if _, ok := ShortReply(c, br, 20*time.Millisecond); ok {
			t.Fatal("an open stream was taken for a complete reply")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("waited %v", d)
		}
		s.Write([]byte("second"))
		s.Close()
		if b, _ := io.ReadAll(br); string(b) != "first second" {
			t.Errorf("bytes lost: %q", b)
		}
	})
	t.Run("longer than the buffer", func(t *testing.T) {
		c, s := pipeConn(t)
		big := strings.Repeat("x", 10000)
		go func() { s.Write([]byte(big)); s.Close() }()
		br := bufio.NewReaderSize(c, 4096)
		if _, ok := ShortReply(c, br, time.Second); ok {
			t.Fatal("a reply larger than the buffer was sized")
		}
		if b, _ := io.ReadAll(br); len(b) != len(big) {
			t.Errorf("read %d of %d bytes", len(b), len(big))
		}
	})
}
