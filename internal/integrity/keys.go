package integrity

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Config is the integrity block of an exporter's configuration. The
// signing key comes from a file or an environment variable, never from the
// configuration itself.
type Config struct {
	// KeyFile is a file holding the signing key (auditctl keygen); it must
	// not be readable or writable by group or others.
	KeyFile string `mapstructure:"key_file"`
	// KeyEnv names an environment variable holding the signing key.
	KeyEnv string `mapstructure:"key_env"`
	// Writer names this collector's chain of checkpoints; default: the
	// host name and the exporter's name.
	Writer string `mapstructure:"writer"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the block: exactly one key source, a writer name that
// fits a note, a key file private to its owner.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.KeyFile == "" && c.KeyEnv == "":
		errs = append(errs, errors.New("integrity: set key_file or key_env (the signing key is never inline)"))
	case c.KeyFile != "" && c.KeyEnv != "":
		errs = append(errs, errors.New("integrity: set key_file or key_env, not both"))
	case c.KeyFile != "":
		if err := CheckKeyFile(c.KeyFile); err != nil {
			errs = append(errs, fmt.Errorf("integrity::key_file: %w", err))
		}
	}
	if c.Writer != "" {
		if err := ValidWriter(c.Writer); err != nil {
			errs = append(errs, fmt.Errorf("integrity::writer: %w", err))
		}
	}
	return errors.Join(errs...)
}

// CheckKeyFile refuses a private key file that group or others may read
// or write.
func CheckKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: a signing key must be readable by its owner only (chmod 600 %s)", path, m, path)
	}
	return nil
}

// Signer loads the signing key.
func (c *Config) Signer() (note.Signer, error) {
	var skey string
	if c.KeyFile != "" {
		if err := CheckKeyFile(c.KeyFile); err != nil {
			return nil, fmt.Errorf("integrity: key_file: %w", err)
		}
		b, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("integrity: key_file: %w", err)
		}
		skey = string(b)
	} else {
		skey = os.Getenv(c.KeyEnv)
		if skey == "" {
			return nil, fmt.Errorf("integrity: key_env: environment variable %s is empty or unset", c.KeyEnv)
		}
	}
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		// The error of NewSigner never holds the key.
		return nil, fmt.Errorf("integrity: signing key: %w (want a private key made by auditctl keygen)", err)
	}
	return s, nil
}

// DefaultWriter derives a writer name from the host name and the
// exporter's name, e.g. "node-1/postgres".
func DefaultWriter(component string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	w := make([]byte, 0, len(host)+1+len(component))
	for _, c := range []byte(host + "/" + component) {
		if !strings.ContainsRune("._:/@-", rune(c)) && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			c = '-'
		}
		w = append(w, c)
	}
	if len(w) > 200 {
		w = w[:200]
	}
	return string(w)
}

// GenerateKey writes a new Ed25519 key pair named name: the private key to
// path with mode 0600 (refusing to overwrite), the public key to path.pub.
func GenerateKey(path, name string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write private key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write private key: %w", err)
	}
	if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write public key: %w", err)
	}
	return vkey, nil
}

// LoadVerifier reads a public key file (auditctl keygen's FILE.pub).
func LoadVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w (want the .pub file auditctl keygen wrote)", path, err)
	}
	return v, nil
}
