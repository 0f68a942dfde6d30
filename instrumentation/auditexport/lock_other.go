//go:build !unix

package auditexport

import (
	"errors"
	"os"
)

// lockDir refuses: without flock the spool cannot keep a second process out.
func lockDir(string) (*os.File, error) {
	return nil, errors.New("the durable spool needs flock, which this platform lacks")
}
