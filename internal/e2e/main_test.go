package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the checkout the plugin tests share once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedCheckout.dir != "" {
		os.RemoveAll(filepath.Dir(sharedCheckout.dir))
	}
	os.Exit(code)
}
