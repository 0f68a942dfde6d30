// Package testconfig loads component configurations in tests the way the
// collector does: a YAML file resolved with the file and env providers
// (${env:VAR} expanded), one component's section unmarshalled into its
// config and validated.
package testconfig

import (
	"context"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
)

// Resolve reads and resolves the YAML file at path.
func Resolve(t testing.TB, path string) *confmap.Conf {
	t.Helper()
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + path},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := r.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// Load unmarshals the section key (a component id such as "masking/hash",
// or a path such as "processors::sampling") of the file at path into cfg,
// which holds the defaults, and validates it. Unmarshal and validation
// errors are returned, so tests can check them.
func Load(t testing.TB, path, key string, cfg any) error {
	t.Helper()
	sub, err := Resolve(t, path).Sub(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Unmarshal(cfg); err != nil {
		return err
	}
	return confmap.Validate(cfg)
}

// Factory is what Component needs of a collector component factory.
type Factory interface {
	Type() component.Type
	CreateDefaultConfig() component.Config
}

// Component loads the section of the component named name ("" for the
// unnamed one) from the package's testdata/config.yaml into the factory's
// default config, and validates it.
func Component(t testing.TB, f Factory, name string) (component.Config, error) {
	t.Helper()
	id := component.NewID(f.Type())
	if name != "" {
		id = component.NewIDWithName(f.Type(), name)
	}
	cfg := f.CreateDefaultConfig()
	return cfg, Load(t, filepath.Join("testdata", "config.yaml"), id.String(), cfg)
}
