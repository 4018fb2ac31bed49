package secrets

import (
	"strings"
	"testing"
)

// BenchmarkScanPlain is the common case: a configuration file with no secret.
func BenchmarkScanPlain(b *testing.B) {
	data := []byte(strings.Repeat("server.port = 8080\nlog.level = info\ncache.size = 256M\n", 300))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Scan("/etc/app/app.conf", data)
	}
}

func BenchmarkScanEnvFile(b *testing.B) {
	data := []byte(strings.Repeat("DEBUG=1\nPORT=8080\n", 50) + "AWS_ACCESS_KEY_ID=AKIAZ3MSJV4QWERTYUIO\nDB_PASSWORD=hunter2\n")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Scan("/app/.env", data)
	}
}
