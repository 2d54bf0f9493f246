package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 named cn and
// its key into dir.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestReloadRenewsCertificate: the running HTTPS server presents the
// certificate the latest build of its section loaded, as after a reload
// that follows a renewal (both builds share one registry.Pool).
func TestReloadRenewsCertificate(t *testing.T) {
	dir := t.TempDir()
	pool := new(registry.Pool)
	build := func() (*registry.Config, func()) {
		return registrytest.Generation(t, pool, registry.ServerKind, "server:main", filepath.Join(dir, "site.ini"),
			map[string]string{"port": "0", "cert_file": "cert.pem", "key_file": "key.pem"})
	}
	writeCert(t, dir, "first")
	c1, discard1 := build()
	srv, err := httpFactory(c1)
	if err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	s := srv.(*Server)
	s.Ready = func(a net.Addr) { addrc <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, http.NotFoundHandler()) }()
	defer func() { cancel(); <-done }()
	addr := <-addrc
	subject := func() string {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := subject(); got != "first" {
		t.Fatalf("certificate %q, want first", got)
	}
	writeCert(t, dir, "renewed")
	c2, discard2 := build()
	defer discard2()
	if _, err := httpFactory(c2); err != nil {
		t.Fatal(err)
	}
	discard1() // the old generation goes
	if got := subject(); got != "renewed" {
		t.Errorf("after the reload the server presents %q, want renewed", got)
	}
}
