package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The official JSON schemas, taken at test time from modules that ship them (nothing
// is vendored): CycloneDX's Go library has the 1.6 schema with the SPDX license list
// and JSF it references; Syft ships the SPDX 2.3 schema.
const (
	cycloneDXModule = "github.com/CycloneDX/cyclonedx-go@v0.12.0"
	spdxModule      = "github.com/anchore/syft@v1.57.1"
	cycloneDX16     = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	spdx23          = "http://spdx.org/rdf/terms/2.3"
)

var schemas struct {
	once      sync.Once
	cdx, spdx *jsonschema.Schema
	err       error
}

// SBOMSchemas returns validators for CycloneDX 1.6 and SPDX 2.3 JSON documents. When
// the Go module proxy cannot be reached, the test is Missing.
func SBOMSchemas(t testing.TB) (cyclonedx, spdx func([]byte) error) {
	t.Helper()
	schemas.once.Do(func() { schemas.cdx, schemas.spdx, schemas.err = loadSchemas() })
	if schemas.err != nil {
		Missing(t, "SBOM schemas: %v", schemas.err)
	}
	validate := func(s *jsonschema.Schema) func([]byte) error {
		return func(doc []byte) error {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
			if err != nil {
				return err
			}
			return s.Validate(inst)
		}
	}
	return validate(schemas.cdx), validate(schemas.spdx)
}

func loadSchemas() (*jsonschema.Schema, *jsonschema.Schema, error) {
	cdxDir, err := ModuleDir(cycloneDXModule)
	if err != nil {
		return nil, nil, err
	}
	spdxDir, err := ModuleDir(spdxModule)
	if err != nil {
		return nil, nil, err
	}
	c := jsonschema.NewCompiler()
	if err := addByID(c, filepath.Join(cdxDir, "schema", "bom-1.6.schema.json"), filepath.Join(cdxDir, "schema", "spdx.schema.json"),
		filepath.Join(cdxDir, "schema", "jsf-0.82.schemax.json")); err != nil {
		return nil, nil, err
	}
	cdx, err := c.Compile(cycloneDX16)
	if err != nil {
		return nil, nil, err
	}
	c = jsonschema.NewCompiler()
	if err := addByID(c, filepath.Join(spdxDir, "schema", "spdx-json", "spdx-schema-2.3.json")); err != nil {
		return nil, nil, err
	}
	spdx, err := c.Compile(spdx23)
	return cdx, spdx, err
}

// ModuleDir finds a module version in the module cache, downloading it from the
// module proxy if needed, from outside any module so the project's go.mod and go.sum
// are left alone.
func ModuleDir(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr != nil {
		return "", fmt.Errorf("go mod download %s: %v", mod, err)
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, m.Error)
	}
	return m.Dir, nil
}

// addByID registers each schema under the URL of its own $id.
func addByID(c *jsonschema.Compiler, paths ...string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		m, _ := doc.(map[string]any)
		id, _ := m["$id"].(string)
		if id == "" {
			return fmt.Errorf("%s: no $id", p)
		}
		if err := c.AddResource(id, doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// OpenAPI returns a validator of JSON documents against a schema of the OpenAPI file
// (components/schemas/NAME), for tests that check the service's answers.
func OpenAPI(t testing.TB, path string) func(name string, doc []byte) error {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var y any
	if err := yaml.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	j, err := json.Marshal(y)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("file:///openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	compiled := map[string]*jsonschema.Schema{}
	return func(name string, body []byte) error {
		mu.Lock()
		s, ok := compiled[name]
		if !ok {
			var err error
			if s, err = c.Compile("file:///openapi.json#/components/schemas/" + name); err != nil {
				mu.Unlock()
				return fmt.Errorf("schema %s: %w", name, err)
			}
			compiled[name] = s
		}
		mu.Unlock()
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		return s.Validate(inst)
	}
}
